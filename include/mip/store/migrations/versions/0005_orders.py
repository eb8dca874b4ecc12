"""Order import: raw pages, per-run stage tables, imported intervals; order items keyed by line.

Every task boundary of ``mip_orders__<channel>`` is a table keyed by (channel_id, run_id):
``order_pages`` (what Amazon returned, for replay), ``stage_orders`` / ``stage_order_items`` (the
normalised model, gate verdict per order). ``order_intervals`` records every run's window and
outcome, so the product knows its own gaps (the repair DAG reads it, not Airflow's tables).

``mip.order_items`` is re-keyed by (amazon_order_id, item_key): the orders report
(GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL) carries no OrderItemId, so both import
paths key an order's lines by SKU (``SKU#2`` for a repeated SKU, in Amazon's line order) and
``order_item_id`` is kept when the API path knows it.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE mip.order_items DROP CONSTRAINT order_items_pkey;
        ALTER TABLE mip.order_items
            ADD COLUMN item_key           text,
            ADD COLUMN title              text,
            ADD COLUMN item_tax           numeric(12, 2),
            ADD COLUMN shipping_price     numeric(12, 2),
            ADD COLUMN shipping_tax       numeric(12, 2),
            ADD COLUMN promotion_discount numeric(12, 2),
            ALTER COLUMN order_item_id DROP NOT NULL;
        UPDATE mip.order_items SET item_key = order_item_id WHERE item_key IS NULL;
        ALTER TABLE mip.order_items ALTER COLUMN item_key SET NOT NULL;
        ALTER TABLE mip.order_items ADD PRIMARY KEY (amazon_order_id, item_key);
        CREATE INDEX order_items_channel ON mip.order_items (channel_id);

        -- what Amazon returned, per run: getOrders / getOrderItems payloads (jsonb) or report text
        CREATE TABLE mip.order_pages (
            channel_id  text NOT NULL,
            run_id      text NOT NULL,
            kind        text NOT NULL CHECK (kind IN ('orders', 'items', 'report')),
            seq         integer NOT NULL,
            request     jsonb NOT NULL DEFAULT '{}',
            payload     jsonb,
            body        text,
            fetched_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (channel_id, run_id, kind, seq)
        );
        CREATE INDEX order_pages_fetched ON mip.order_pages (fetched_at);

        -- normalised orders of one run (extract), the gate's verdict per order
        CREATE TABLE mip.stage_orders (
            channel_id          text NOT NULL,
            run_id              text NOT NULL,
            amazon_order_id     text NOT NULL,
            marketplace_id      text NOT NULL,
            order_status        text,
            fulfillment_channel text,
            purchase_date       timestamptz,
            last_update_date    timestamptz NOT NULL,
            currency            text,
            order_total         numeric(12, 2),
            source              text NOT NULL CHECK (source IN ('api', 'report')),
            raw                 jsonb,
            -- false when mip.orders already holds this LastUpdateDate or a newer one (nothing to do)
            changed             boolean NOT NULL DEFAULT true,
            items_fetched       boolean NOT NULL DEFAULT false,
            rejected            boolean NOT NULL DEFAULT false,
            created_at          timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (channel_id, run_id, amazon_order_id)
        );
        CREATE INDEX stage_orders_created ON mip.stage_orders (created_at);

        CREATE TABLE mip.stage_order_items (
            channel_id         text NOT NULL,
            run_id             text NOT NULL,
            amazon_order_id    text NOT NULL,
            item_key           text NOT NULL,
            order_item_id      text,
            sku                text,
            asin               text,
            title              text,
            quantity           integer,
            item_price         numeric(12, 2),
            item_tax           numeric(12, 2),
            shipping_price     numeric(12, 2),
            shipping_tax       numeric(12, 2),
            promotion_discount numeric(12, 2),
            currency           text,
            last_update_date   timestamptz NOT NULL,
            raw                jsonb,
            PRIMARY KEY (channel_id, run_id, amazon_order_id, item_key)
        );

        -- one row per run of mip_orders__<channel>: its window and what became of it
        CREATE TABLE mip.order_intervals (
            channel_id     text NOT NULL,
            run_id         text NOT NULL,
            dag_id         text NOT NULL,
            logical_date   timestamptz,
            interval_start timestamptz NOT NULL,
            interval_end   timestamptz NOT NULL,       -- the window asked for
            covered_end    timestamptz NOT NULL,       -- LastUpdatedBefore sent: min(end, now - 2 min)
            method         text NOT NULL CHECK (method IN ('api', 'report')),
            status         text NOT NULL CHECK (status IN ('started', 'imported', 'failed')),
            report_id      text,
            orders_seen    integer,
            orders_loaded  integer,
            items_loaded   integer,
            rejected       integer,
            api_calls      integer,
            error          text,
            started_at     timestamptz NOT NULL DEFAULT now(),
            finished_at    timestamptz,
            PRIMARY KEY (channel_id, run_id),
            CHECK (interval_start <= covered_end AND covered_end <= interval_end)
        );
        CREATE INDEX order_intervals_coverage ON mip.order_intervals (channel_id, status, interval_start);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE mip.order_intervals, mip.stage_order_items, mip.stage_orders, mip.order_pages;
        DELETE FROM mip.order_items WHERE order_item_id IS NULL;
        ALTER TABLE mip.order_items DROP CONSTRAINT order_items_pkey;
        DROP INDEX mip.order_items_channel;
        ALTER TABLE mip.order_items
            DROP COLUMN item_key, DROP COLUMN title, DROP COLUMN item_tax, DROP COLUMN shipping_price,
            DROP COLUMN shipping_tax, DROP COLUMN promotion_discount,
            ALTER COLUMN order_item_id SET NOT NULL;
        ALTER TABLE mip.order_items ADD PRIMARY KEY (amazon_order_id, order_item_id);
        """
    )
