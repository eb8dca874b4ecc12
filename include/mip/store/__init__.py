"""PostgreSQL access for the ``mip`` schema: connections, migrations, bulk upsert, registry."""
