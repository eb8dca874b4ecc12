"""Foundation tables of the mip schema.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE mip.channel_registry (
            channel_id     text PRIMARY KEY,
            account_id     text NOT NULL,
            country        text NOT NULL,
            marketplace_id text NOT NULL,
            role           text NOT NULL CHECK (role IN ('main', 'international')),
            linked_main    text,
            registered_at  timestamptz NOT NULL DEFAULT now(),
            changed_at     timestamptz NOT NULL DEFAULT now(),
            CHECK ((role = 'main') = (linked_main IS NULL))
        );

        CREATE TABLE mip.channel_registry_audit (
            id          bigserial PRIMARY KEY,
            channel_id  text NOT NULL,
            action      text NOT NULL CHECK (action IN ('register', 'reassign')),
            old_role    text,
            new_role    text NOT NULL,
            old_link    text,
            new_link    text,
            reason      text NOT NULL,
            actor       text NOT NULL,
            at          timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE mip.supplier_products (
            reference       text PRIMARY KEY,
            ean             text NOT NULL,
            brand           text,
            category_path   text,
            names           jsonb NOT NULL DEFAULT '{}',
            descriptions    jsonb NOT NULL DEFAULT '{}',
            images          jsonb NOT NULL DEFAULT '[]',
            cost_price      numeric(12, 2) NOT NULL,
            retail_price    numeric(12, 2),
            vat_class       text,
            stock           integer NOT NULL DEFAULT 0,
            weight_kg       numeric(10, 3),
            length_cm       numeric(10, 2),
            width_cm        numeric(10, 2),
            height_cm       numeric(10, 2),
            content_hash    text NOT NULL,
            source_file     text,
            catalog_version text,
            loaded_at       timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE mip.rejected_rows (
            id         bigserial PRIMARY KEY,
            source     text NOT NULL,
            run_id     text,
            line       integer,
            record_key text,
            field      text,
            rule       text NOT NULL,
            value      text,
            message    text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX rejected_rows_source_run ON mip.rejected_rows (source, run_id);

        CREATE TABLE mip.quality_results (
            id                   bigserial PRIMARY KEY,
            suite                text NOT NULL,
            dag_id               text,
            run_id               text,
            task_id              text,
            success              boolean NOT NULL,
            evaluated_rows       integer NOT NULL DEFAULT 0,
            unexpected_rows      integer NOT NULL DEFAULT 0,
            failing_expectations jsonb NOT NULL DEFAULT '[]',
            created_at           timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE mip.listings (
            channel_id         text NOT NULL,
            sku                text NOT NULL,
            marketplace_id     text NOT NULL,
            reference          text,
            product_type       text,
            content_hash       text,
            offer_hash         text,
            price              numeric(12, 2),
            quantity           integer,
            status             text NOT NULL,
            issues             jsonb NOT NULL DEFAULT '[]',
            asin               text,
            last_submission_id bigint,
            updated_at         timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (channel_id, sku)
        );

        CREATE TABLE mip.feed_submissions (
            id                 bigserial PRIMARY KEY,
            channel_id         text NOT NULL,
            dag_id             text NOT NULL,
            run_id             text NOT NULL,
            batch_key          text NOT NULL UNIQUE,
            feed_type          text NOT NULL,
            message_count      integer NOT NULL,
            document_sha256    text NOT NULL,
            status             text NOT NULL,
            feed_id            text,
            feed_document_id   text,
            result_document_id text,
            error              text,
            created_at         timestamptz NOT NULL DEFAULT now(),
            submitted_at       timestamptz,
            finished_at        timestamptz
        );

        CREATE TABLE mip.orders (
            amazon_order_id     text PRIMARY KEY,
            channel_id          text NOT NULL,
            marketplace_id      text NOT NULL,
            order_status        text NOT NULL,
            fulfillment_channel text,
            purchase_date       timestamptz NOT NULL,
            last_update_date    timestamptz NOT NULL,
            currency            text,
            order_total         numeric(12, 2),
            raw                 jsonb,
            imported_at         timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX orders_channel_updated ON mip.orders (channel_id, last_update_date);

        CREATE TABLE mip.order_items (
            amazon_order_id  text NOT NULL,
            order_item_id    text NOT NULL,
            channel_id       text NOT NULL,
            sku              text,
            asin             text,
            quantity         integer NOT NULL,
            item_price       numeric(12, 2),
            currency         text,
            last_update_date timestamptz NOT NULL,
            raw              jsonb,
            PRIMARY KEY (amazon_order_id, order_item_id)
        );

        CREATE TABLE mip.migration_plans (
            plan_id      text NOT NULL,
            channel_id   text NOT NULL,
            sku          text NOT NULL,
            reference    text,
            reason       text NOT NULL,
            evidence     jsonb NOT NULL DEFAULT '{}',
            status       text NOT NULL DEFAULT 'planned',
            created_at   timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (plan_id, sku)
        );

        CREATE TABLE mip.account_health (
            id                     bigserial PRIMARY KEY,
            account_id             text NOT NULL,
            checked_at             timestamptz NOT NULL DEFAULT now(),
            status                 text NOT NULL CHECK (status IN ('ok', 'warning', 'failed')),
            authorization_age_days integer,
            message                text NOT NULL,
            details                jsonb NOT NULL DEFAULT '{}'
        );
        CREATE INDEX account_health_latest ON mip.account_health (account_id, checked_at DESC);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE mip.account_health, mip.migration_plans, mip.order_items, mip.orders,
            mip.feed_submissions, mip.listings, mip.quality_results, mip.rejected_rows,
            mip.supplier_products, mip.channel_registry_audit, mip.channel_registry;
        """
    )
