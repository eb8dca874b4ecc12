"""The distributed test harness behind ``make distributed-test`` (entry point: scripts/distributed_test.py).

It starts real Airflow stacks (LocalExecutor, then CeleryExecutor with several workers) on the local
PostgreSQL and Redis, runs the demo channels' DAGs in both through the REST API and compares what
they wrote to the ``mip`` schema.
"""
