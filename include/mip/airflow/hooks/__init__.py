"""Airflow hooks of MIP."""
