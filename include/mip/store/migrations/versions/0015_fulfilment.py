"""Fulfilment outbox: every seller-fulfilled order MIP sends to the supplier, its state and its history.

``mip.fulfilment_orders`` holds one row per (seller_id, amazon_order_id): gated -> checked -> sending ->
sent -> tracked -> confirmed, or refused (reason, fix) / cancelled. ``sending`` is written and committed
before the supplier's create call, so a retried or killed task knows it may have created the supplier
order and adopts it by reference instead of creating a second one. The buyer's address is never stored
here (docs/fulfilment.md, "Personal data"). ``mip.fulfilment_events`` keeps every transition.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

STATES = ("gated", "checked", "sending", "sent", "tracked", "confirmed", "refused", "cancelled")


def upgrade() -> None:
    states = ", ".join(f"'{s}'" for s in STATES)
    op.execute(
        f"""
        CREATE TABLE mip.fulfilment_orders (
            seller_id         text NOT NULL,
            amazon_order_id   text NOT NULL,
            account_id        text NOT NULL,
            channel_id        text NOT NULL,
            marketplace_id    text NOT NULL,
            state             text NOT NULL CHECK (state IN ({states})),
            reason            text,
            fix               text,
            latest_ship_date  timestamptz,
            lines             jsonb NOT NULL,
            supplier_order_id text,
            supplier_total    numeric(12, 2),
            carrier           text,
            tracking_number   text,
            ship_date         timestamptz,
            attempts          integer NOT NULL DEFAULT 0,
            created_at        timestamptz NOT NULL DEFAULT now(),
            updated_at        timestamptz NOT NULL DEFAULT now(),
            sent_at           timestamptz,
            confirmed_at      timestamptz,
            PRIMARY KEY (seller_id, amazon_order_id),
            CHECK (state <> 'refused' OR (reason IS NOT NULL AND fix IS NOT NULL))
        );
        CREATE INDEX fulfilment_orders_channel_state ON mip.fulfilment_orders (channel_id, state);

        CREATE TABLE mip.fulfilment_events (
            id              bigserial PRIMARY KEY,
            seller_id       text NOT NULL,
            amazon_order_id text NOT NULL,
            channel_id      text NOT NULL,
            run_id          text,
            state           text NOT NULL,
            detail          text,
            at              timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX fulfilment_events_order ON mip.fulfilment_events (seller_id, amazon_order_id, at);
        CREATE INDEX fulfilment_events_run ON mip.fulfilment_events (channel_id, run_id);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE mip.fulfilment_events; DROP TABLE mip.fulfilment_orders;")
