"""Marketplaces page: one row per OAuth consent started from Multi-Channel > Marketplaces.

The row is the server-side half of the signed ``state`` sent to Amazon: the callback accepts a
state only when its row exists, belongs to the signed-in Airflow user, has not expired and was never
used (``used_at`` is set atomically when the callback consumes it). The row then keeps the outcome,
so the page can show it after the redirect and the table doubles as an audit of who connected what.

Revision ID: 0007
Revises: 0003
"""

from alembic import op

revision = "0007"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE mip.marketplace_authorizations (
            nonce              text PRIMARY KEY,
            purpose            text NOT NULL CHECK (purpose IN ('connect', 'international', 'reset', 'switch')),
            account_id         text NOT NULL,
            channel_id         text,
            seller_id          text NOT NULL,
            country            text NOT NULL,
            user_name          text NOT NULL,
            created_at         timestamptz NOT NULL DEFAULT now(),
            expires_at         timestamptz NOT NULL,
            used_at            timestamptz,
            selling_partner_id text,
            outcome            text NOT NULL DEFAULT 'pending'
                               CHECK (outcome IN ('pending', 'connected', 'failed')),
            error_code         text,
            message            text
        );
        CREATE INDEX marketplace_authorizations_account
            ON mip.marketplace_authorizations (account_id, created_at DESC);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE mip.marketplace_authorizations")
