"""CSV-to-MIP migration: a plan row waits until MIP's own listing of its product is live on Amazon.

A CSV-era copy is deleted only when MIP's listing of the same product is buyable on Amazon (seen in
the listings report, or through searchListingsItems for a plan made from the seller's file); until
then its row is ``waiting`` with the reason (``waiting_because``), and a later approval of the plan
deletes it once MIP's copy is live. The plan header keeps where its listings came from
(``source_path``, the seller's file) so that an approval reads the same source, and how many rows wait.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE mip.migration_plans
            DROP CONSTRAINT migration_plans_status,
            ADD COLUMN waiting_because text,
            ADD CONSTRAINT migration_plans_status CHECK (
                status IN ('planned', 'waiting', 'submitted', 'deleted', 'verified', 'failed', 'excluded'));
        ALTER TABLE mip.migration_plan_headers
            ADD COLUMN source_path text,
            ADD COLUMN waiting integer NOT NULL DEFAULT 0;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        UPDATE mip.migration_plans SET status = 'planned' WHERE status = 'waiting';
        ALTER TABLE mip.migration_plans
            DROP CONSTRAINT migration_plans_status,
            DROP COLUMN waiting_because,
            ADD CONSTRAINT migration_plans_status CHECK (
                status IN ('planned', 'submitted', 'deleted', 'verified', 'failed', 'excluded'));
        ALTER TABLE mip.migration_plan_headers DROP COLUMN source_path, DROP COLUMN waiting;
        """
    )
