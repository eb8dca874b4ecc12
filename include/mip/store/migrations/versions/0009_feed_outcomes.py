"""What Amazon made of each feed submission: accepted and rejected messages, issue codes.

Revision ID: 0009
Revises: 0005
"""

from alembic import op

revision = "0009"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE mip.feed_submissions
            ADD COLUMN accepted_count integer,
            ADD COLUMN rejected_count integer,
            ADD COLUMN issue_codes    jsonb;
        CREATE INDEX feed_submissions_run ON mip.feed_submissions (dag_id, run_id);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX mip.feed_submissions_run;
        ALTER TABLE mip.feed_submissions DROP COLUMN accepted_count, DROP COLUMN rejected_count,
            DROP COLUMN issue_codes;
        """
    )
