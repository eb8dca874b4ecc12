"""Refused consent callbacks are kept on their authorization row, like accepted ones.

A callback whose ``state`` names a row but is refused (expired, replayed, altered signature, started
by another Airflow user) appends ``{at, user, reason}`` to ``refusals`` (the last 50 are kept); a row
nobody completed yet also gets the outcome ``refused`` with the reason as ``error_code``. A completed
row keeps its outcome: a replay is added to ``refusals`` only.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE mip.marketplace_authorizations
            DROP CONSTRAINT marketplace_authorizations_outcome_check,
            ADD CONSTRAINT marketplace_authorizations_outcome_check
                CHECK (outcome IN ('pending', 'connected', 'failed', 'refused')),
            ADD COLUMN refusals jsonb NOT NULL DEFAULT '[]'::jsonb;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        UPDATE mip.marketplace_authorizations SET outcome = 'failed' WHERE outcome = 'refused';
        ALTER TABLE mip.marketplace_authorizations
            DROP COLUMN refusals,
            DROP CONSTRAINT marketplace_authorizations_outcome_check,
            ADD CONSTRAINT marketplace_authorizations_outcome_check
                CHECK (outcome IN ('pending', 'connected', 'failed'));
        """
    )
