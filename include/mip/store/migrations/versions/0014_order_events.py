"""Event-driven order import: each ORDER_CHANGE message's outcome, subscriptions, the reconciliation figure.

``mip.order_events`` records every message ``mip_order_events__<account>`` received (duplicates too)
with what became of it: ``imported`` (mip.orders took the order), ``unchanged`` (it held that
LastUpdateDate or a newer one), ``duplicate`` (the same NotificationId was handled already),
``rejected`` (the order gate refused it), ``not_found``, ``other_seller``, ``unknown_marketplace`` or
``malformed``. ``mip.order_event_subscriptions`` is what ``mip notifications subscribe`` created per
account and Seller ID. ``mip.order_intervals.missed_by_events`` is the hourly import's reconciliation:
the orders of its window that events had not brought (NULL while the account has no subscription).

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE mip.order_events (
            id                bigserial PRIMARY KEY,
            account_id        text NOT NULL,
            seller_id         text,
            notification_id   text,
            message_id        text,
            amazon_order_id   text,
            marketplace_id    text,
            channel_id        text,
            changed_at        timestamptz,
            received_at       timestamptz NOT NULL DEFAULT now(),
            run_id            text NOT NULL,
            outcome           text NOT NULL CHECK (outcome IN ('imported', 'unchanged', 'duplicate', 'rejected',
                                  'not_found', 'other_seller', 'unknown_marketplace', 'malformed')),
            last_update_date  timestamptz,
            detail            text
        );
        CREATE INDEX order_events_notification ON mip.order_events (account_id, notification_id);
        CREATE INDEX order_events_order ON mip.order_events (seller_id, amazon_order_id, last_update_date);
        CREATE INDEX order_events_received ON mip.order_events (received_at);

        CREATE TABLE mip.order_event_subscriptions (
            account_id       text NOT NULL,
            seller_id        text NOT NULL,
            queue_arn        text NOT NULL,
            destination_id   text NOT NULL,
            subscription_id  text NOT NULL,
            created_at       timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (account_id, seller_id)
        );

        ALTER TABLE mip.order_intervals ADD COLUMN missed_by_events integer;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE mip.order_intervals DROP COLUMN missed_by_events;
        DROP TABLE mip.order_event_subscriptions;
        DROP TABLE mip.order_events;
        """
    )
