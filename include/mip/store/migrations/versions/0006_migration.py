"""CSV-to-MIP migration: the listings each run read, plan headers, plan rows' lifecycle, the audit.

``mip_migrate_csv__<channel>`` reads the channel's listings (Amazon's merchant listings report or the
seller's flat file) into ``migration_inputs`` / ``migration_listings`` (keyed by run), matches them
against the catalog, and writes a plan: one ``migration_plan_headers`` row and one
``migration_plans`` row per matched listing. A plan row moves

    planned -> submitted -> deleted -> verified        (or failed, retried by the next approved run)
    excluded                                            (matched, but never deleted: FBA, not published, conflict)

``migration_audit`` records who planned, approved (or was refused) and executed what, and when.

Revision ID: 0006
Revises: 0008
"""

from alembic import op

revision = "0006"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- where each run's listings came from (one row per run)
        CREATE TABLE mip.migration_inputs (
            channel_id     text NOT NULL,
            run_id         text NOT NULL,
            source         text NOT NULL CHECK (source IN ('report', 'file')),
            path           text,               -- the flat file (source 'file')
            report_id      text,               -- GET_MERCHANT_LISTINGS_ALL_DATA (source 'report')
            report_status  text,
            encoding       text,
            delimiter      text,
            rows           integer,            -- listing rows read (rejected ones included)
            rejected       integer,
            created_at     timestamptz NOT NULL DEFAULT now(),
            staged_at      timestamptz,
            PRIMARY KEY (channel_id, run_id)
        );

        -- the listings of one run, one row per line of the report/file that parsed
        CREATE TABLE mip.migration_listings (
            channel_id      text NOT NULL,
            run_id          text NOT NULL,
            line            integer NOT NULL,
            sku             text,
            item_name       text,
            asin            text,
            product_id      text,
            product_id_type text,             -- ASIN, EAN, UPC, GTIN, ISBN, JAN (normalised)
            product_id_type_raw text,
            gtin            text,             -- product id of a GTIN type, separators removed
            gtin_key        text,             -- the valid GTIN as 14 digits (UPC-12 = EAN-13 = GTIN-14)
            brand           text,             -- flat files only (the report has no brand)
            fulfillment     text,             -- MFN | AFN | NULL (unknown)
            fulfillment_raw text,
            status          text,
            price           text,
            quantity        text,
            open_date       text,
            listing_hash    text NOT NULL,    -- what identifies the listing (plans compare it to stay fresh)
            rejected        boolean NOT NULL DEFAULT false,
            PRIMARY KEY (channel_id, run_id, line)
        );
        CREATE INDEX migration_listings_sku ON mip.migration_listings (channel_id, run_id, sku);

        CREATE TABLE mip.migration_plan_headers (
            plan_id             text PRIMARY KEY,
            channel_id          text NOT NULL,
            account_id          text NOT NULL,
            seller_id           text NOT NULL,
            marketplace_id      text NOT NULL,
            dag_id              text,
            run_id              text NOT NULL,
            source              text NOT NULL,
            status              text NOT NULL
                                CHECK (status IN ('ready', 'refused', 'executing', 'partial', 'completed')),
            refusal             text,
            max_delete_fraction numeric(6, 4) NOT NULL,
            listings_total      integer NOT NULL,
            planned             integer NOT NULL,
            excluded            integer NOT NULL,
            fingerprint         text NOT NULL,  -- sha256 of the planned listings' hashes
            summary             jsonb NOT NULL DEFAULT '{}',
            summary_text        text NOT NULL DEFAULT '',
            created_by          text,
            created_at          timestamptz NOT NULL DEFAULT now(),
            approved_by         text,
            approved_at         timestamptz,
            completed_at        timestamptz
        );
        CREATE INDEX migration_plan_headers_channel ON mip.migration_plan_headers (channel_id, created_at DESC);

        ALTER TABLE mip.migration_plans
            ADD COLUMN line            integer,
            ADD COLUMN listing_hash    text,
            ADD COLUMN fulfillment     text,
            ADD COLUMN excluded_because text,
            ADD COLUMN submission_id   bigint,
            ADD COLUMN issues          jsonb NOT NULL DEFAULT '[]',
            ADD COLUMN executed_run_id text,
            ADD COLUMN deleted_at      timestamptz,
            ADD COLUMN verified_at     timestamptz,
            ADD COLUMN updated_at      timestamptz NOT NULL DEFAULT now(),
            ADD CONSTRAINT migration_plans_status CHECK (
                status IN ('planned', 'submitted', 'deleted', 'verified', 'failed', 'excluded'));
        CREATE INDEX migration_plans_by_status ON mip.migration_plans (plan_id, status);
        CREATE INDEX migration_plans_submission ON mip.migration_plans (submission_id);

        CREATE TABLE mip.migration_audit (
            id         bigserial PRIMARY KEY,
            plan_id    text NOT NULL,
            channel_id text NOT NULL,
            action     text NOT NULL CHECK (action IN ('planned', 'checked', 'approved', 'refused', 'executed')),
            actor      text NOT NULL,
            dag_id     text,
            run_id     text,
            at         timestamptz NOT NULL DEFAULT now(),
            message    text NOT NULL DEFAULT '',
            details    jsonb NOT NULL DEFAULT '{}'
        );
        CREATE INDEX migration_audit_plan ON mip.migration_audit (plan_id, at);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE mip.migration_audit, mip.migration_plan_headers, mip.migration_listings, mip.migration_inputs;
        DROP INDEX mip.migration_plans_by_status;
        DROP INDEX mip.migration_plans_submission;
        ALTER TABLE mip.migration_plans DROP CONSTRAINT migration_plans_status,
            DROP COLUMN line, DROP COLUMN listing_hash, DROP COLUMN fulfillment, DROP COLUMN excluded_because,
            DROP COLUMN submission_id, DROP COLUMN issues, DROP COLUMN executed_run_id, DROP COLUMN deleted_at,
            DROP COLUMN verified_at, DROP COLUMN updated_at;
        """
    )
