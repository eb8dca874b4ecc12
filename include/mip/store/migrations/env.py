"""Alembic environment for the ``mip`` schema (run through ``mip db upgrade``)."""

from alembic import context
from sqlalchemy import create_engine, text

from mip.store.db import SCHEMA

url = context.config.get_main_option("sqlalchemy.url")
if not url:
    raise RuntimeError("the Alembic configuration has no sqlalchemy.url (run migrations through `mip db upgrade`)")
engine = create_engine(url)
with engine.connect() as connection:
    connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
    connection.commit()
    context.configure(connection=connection, version_table_schema=SCHEMA, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
