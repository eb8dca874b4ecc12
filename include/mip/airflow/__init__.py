"""The Airflow glue of MIP: DAG factories, the SP-API hook and connection type, provider info.

The only part of ``mip`` that imports Airflow. DAG files in ``dags/`` call the factories here.
"""
