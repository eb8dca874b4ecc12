"""International Listing verification: one row per run and one per SKU and run.

``mip_verify_international__<channel>`` compares the linked main channel's accepted offers
(``mip.listings``) with the merchant listings report of the channel's own marketplace.
``international_runs`` holds the run's inputs (report, copy delay, exchange rate), its counts, the
price summary and the verdict; ``international_offers`` holds per SKU whether the copy is present,
the likely cause when it is missing and both prices. ``main_accepted_since`` is carried from run to
run, because ``mip.listings.updated_at`` moves with every price or stock patch and would make an
old offer look recently accepted.

Revision ID: 0008
Revises: 0009
"""

from alembic import op

revision = "0008"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE mip.international_runs (
            channel_id          text NOT NULL,
            run_id              text NOT NULL,
            dag_id              text NOT NULL,
            main_channel_id     text NOT NULL,
            account_id          text NOT NULL,
            seller_id           text NOT NULL,
            marketplace_id      text NOT NULL,
            main_marketplace_id text NOT NULL,
            currency            text NOT NULL,
            main_currency       text NOT NULL,
            report_id           text,            -- GET_MERCHANT_LISTINGS_ALL_DATA of the channel's marketplace
            report_status       text,
            copy_delay_hours    numeric(8, 2) NOT NULL,
            fail_missing_percent numeric(6, 2) NOT NULL,
            exchange_rate       numeric(14, 6),  -- channel currency per main currency; NULL = unknown
            expected            integer,         -- main channel offers accepted (MIP SKUs)
            present             integer,
            missing             integer,
            not_copied_yet      integer,
            bil_not_configured  integer,
            not_copied          integer,
            extra_copies        integer,         -- MIP SKUs in the marketplace no longer accepted on main
            priced              integer,         -- copies with both prices (and a known exchange rate)
            median_ratio        numeric(12, 4),  -- local price / converted main price
            min_ratio           numeric(12, 4),
            max_ratio           numeric(12, 4),
            status              text NOT NULL DEFAULT 'requested'
                                CHECK (status IN ('requested', 'ok', 'warning', 'failed')),
            summary             text,
            requested_at        timestamptz NOT NULL DEFAULT now(),
            compared_at         timestamptz,
            PRIMARY KEY (channel_id, run_id)
        );
        CREATE INDEX international_runs_compared ON mip.international_runs (channel_id, compared_at);

        CREATE TABLE mip.international_offers (
            channel_id           text NOT NULL,
            run_id               text NOT NULL,
            sku                  text NOT NULL,
            reference            text,
            main_price           numeric(12, 2),  -- main channel currency, as accepted there
            main_accepted_since  timestamptz NOT NULL,
            status               text NOT NULL CHECK (status IN ('present', 'missing')),
            cause                text CHECK (cause IN ('not_copied_yet', 'bil_not_configured', 'not_copied')),
            local_price          numeric(12, 2),  -- channel currency, from the listings report
            converted_main_price numeric(14, 4),  -- main_price * exchange_rate
            price_ratio          numeric(12, 4),  -- local_price / converted_main_price
            target_status        text,            -- the report's status (Active, Inactive, Incomplete)
            target_asin          text,
            PRIMARY KEY (channel_id, run_id, sku),
            CHECK ((status = 'missing') = (cause IS NOT NULL))
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE mip.international_offers, mip.international_runs")
