"""Supplier catalog: products that left the catalog, and one row per ingested catalog drop.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- NULL = in the supplier's current catalog; set when a full drop no longer lists the product,
        -- so publishing can plan a DELETE (the row is kept, with its last known content).
        ALTER TABLE mip.supplier_products ADD COLUMN removed_at timestamptz;
        CREATE INDEX supplier_products_removed ON mip.supplier_products (removed_at)
            WHERE removed_at IS NOT NULL;

        -- one row per ingested drop (an identical drop is not ingested again)
        CREATE TABLE mip.catalog_versions (
            id               bigserial PRIMARY KEY,
            checksum         text NOT NULL,
            status           text NOT NULL CHECK (status IN ('loaded', 'refused')),
            changed          boolean NOT NULL,
            run_id           text,
            source_dir       text NOT NULL,
            products_file    text NOT NULL,
            files            jsonb NOT NULL DEFAULT '[]',
            records          integer NOT NULL,
            loaded           integer NOT NULL,
            rejected_rows    integer NOT NULL,
            rejected_by_rule jsonb NOT NULL DEFAULT '{}',
            inserted         integer NOT NULL DEFAULT 0,
            updated          integer NOT NULL DEFAULT 0,
            unchanged        integer NOT NULL DEFAULT 0,
            removed          integer NOT NULL DEFAULT 0,
            reason           text,
            seconds          double precision,
            created_at       timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX catalog_versions_status ON mip.catalog_versions (status, id DESC);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE mip.catalog_versions;
        DROP INDEX mip.supplier_products_removed;
        ALTER TABLE mip.supplier_products DROP COLUMN removed_at;
        """
    )
