"""International Listing runs: how many missing offers the main seller's own account holds in the marketplace.

``main_seller_copies`` is set when the channel's account differs from its main channel's and the run failed:
a sample of the missing offers is looked up in the marketplace under the main channel's Seller ID. Copies
there mean Build International Listings works, but for the main seller: the channel's Seller ID is likely
wrong. NULL: not checked.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE mip.international_runs
            ADD COLUMN main_seller_checked integer,
            ADD COLUMN main_seller_copies  integer;
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE mip.international_runs DROP COLUMN main_seller_checked, DROP COLUMN main_seller_copies")
