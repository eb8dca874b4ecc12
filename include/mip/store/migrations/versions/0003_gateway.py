"""Gateway: shared SP-API rate budget, the history of each account's credentials, and what a feed
submission needs to resume after a crash without submitting twice.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE mip.rate_budget (
            seller_id  text NOT NULL,
            operation  text NOT NULL,
            rate       double precision NOT NULL CHECK (rate > 0),
            burst      integer NOT NULL CHECK (burst > 0),
            tokens     double precision NOT NULL,
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (seller_id, operation)
        );

        CREATE TABLE mip.account_credentials_history (
            id            bigserial PRIMARY KEY,
            account_id    text NOT NULL,
            seller_id     text NOT NULL,
            old_seller_id text,
            authorized_at timestamptz NOT NULL,
            source        text NOT NULL,
            actor         text NOT NULL,
            recorded_at   timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX account_credentials_history_account ON mip.account_credentials_history (account_id, recorded_at);

        ALTER TABLE mip.feed_submissions
            ADD COLUMN account_id        text,
            ADD COLUMN seller_id         text,
            ADD COLUMN marketplace_id    text,
            ADD COLUMN document          bytea,
            ADD COLUMN skus              jsonb,
            ADD COLUMN upload_url        text,
            ADD COLUMN document_created_at timestamptz,
            ADD COLUMN submitting_at     timestamptz,
            ADD COLUMN processing_status text,
            ADD COLUMN report            jsonb;
        CREATE UNIQUE INDEX feed_submissions_feed ON mip.feed_submissions (seller_id, feed_id);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX mip.feed_submissions_feed;
        ALTER TABLE mip.feed_submissions DROP COLUMN account_id, DROP COLUMN seller_id, DROP COLUMN marketplace_id,
            DROP COLUMN document, DROP COLUMN skus, DROP COLUMN upload_url, DROP COLUMN document_created_at,
            DROP COLUMN submitting_at, DROP COLUMN processing_status, DROP COLUMN report;
        DROP TABLE mip.account_credentials_history, mip.rate_budget;
        """
    )
