"""MIP: the Multi-Channel Integration Platform for Amazon sellers (business logic, no Airflow)."""
