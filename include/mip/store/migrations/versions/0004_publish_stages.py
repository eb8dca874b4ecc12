"""Stage tables of the publishing pipeline: select -> gate -> price -> gate -> plan.

Every task boundary of ``mip_publish__<channel>`` is one of these tables, keyed by
(channel_id, run_id, sku): a task reads its input filtered by run_id and writes its output, so any
step can be re-run alone and every intermediate result is inspectable with SQL. Rows of old runs
are deleted by the select step after ``publish.stage_retention_days``.

Publishing reads ``supplier_products.removed_at`` (NULL = in the catalog), which the catalog
migration 0002 adds (earlier in the chain).

Revision ID: 0004
Revises: 0007
"""

from alembic import op

revision = "0004"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- 1. select: the channel's selection of the catalog, in the channel's language.
        CREATE TABLE mip.stage_offer (
            channel_id    text NOT NULL,
            run_id        text NOT NULL,
            sku           text NOT NULL,
            reference     text NOT NULL,
            ean           text,
            brand         text,
            category_path text,
            product_type  text NOT NULL,
            language      text,            -- language of item_name (the channel's or a fallback)
            item_name     text,
            description   text,
            images        jsonb NOT NULL DEFAULT '[]',
            retail_price  numeric(12, 2),  -- supplier's RRP, catalog currency
            list_price    numeric(12, 2),  -- RRP in the marketplace's currency
            currency      text NOT NULL,
            cost_price    numeric(12, 2),
            vat_class     text,
            stock         integer,
            quantity      integer NOT NULL,
            asin          text,            -- known from mip.listings (merchant_suggested_asin)
            content_hash  text NOT NULL,   -- product facts sent in a full UPDATE (not price/quantity)
            rejected      boolean NOT NULL DEFAULT false,  -- set by the catalog_offer gate
            created_at    timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (channel_id, run_id, sku)
        );
        CREATE INDEX stage_offer_created ON mip.stage_offer (channel_id, created_at);

        -- 3. price: one computed price per offer, with every input and the rule that produced it.
        CREATE TABLE mip.stage_price (
            channel_id           text NOT NULL,
            run_id               text NOT NULL,
            sku                  text NOT NULL,
            reference            text NOT NULL,
            cost_price           numeric(12, 2) NOT NULL,  -- catalog currency
            exchange_rate        numeric(12, 6) NOT NULL,  -- marketplace currency per catalog currency
            cost_local           numeric(14, 4) NOT NULL,
            rule_id              text NOT NULL,
            strategy             text NOT NULL,
            parameter            numeric(12, 4) NOT NULL,  -- percent, or amount for fixed_markup
            target_net           numeric(14, 4) NOT NULL,  -- what the strategy wants to keep after fee and VAT
            vat_percent          numeric(6, 3) NOT NULL,
            referral_fee_percent numeric(6, 3) NOT NULL,
            strategy_price       numeric(14, 4) NOT NULL,  -- VAT-inclusive price before floor and rounding
            min_margin_percent   numeric(8, 3) NOT NULL,
            floor_price          numeric(14, 4) NOT NULL,  -- lowest VAT-inclusive price giving the minimum margin
            floor_applied        boolean NOT NULL,
            rounding             text NOT NULL,
            price                numeric(12, 2) NOT NULL,  -- VAT-inclusive, sent as our_price
            currency             text NOT NULL,
            margin_percent       numeric(10, 3) NOT NULL,  -- realised margin on cost after fee and VAT
            last_price           numeric(12, 2),           -- price of the listing Amazon accepted last
            price_change_percent numeric(12, 3),
            rejected             boolean NOT NULL DEFAULT false,  -- set by the price gate
            created_at           timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (channel_id, run_id, sku)
        );
        CREATE INDEX stage_price_created ON mip.stage_price (channel_id, created_at);

        -- 5. plan: what submission sends, one JSON_LISTINGS_FEED message per sku (without messageId).
        CREATE TABLE mip.stage_plan (
            channel_id     text NOT NULL,
            run_id         text NOT NULL,
            sku            text NOT NULL,
            reference      text,
            operation      text NOT NULL CHECK (operation IN ('UPDATE', 'PATCH', 'DELETE')),
            product_type   text,
            content_hash   text,   -- what mip.listings holds once Amazon accepts the message
            offer_hash     text,
            price          numeric(12, 2),
            quantity       integer,
            payload        json NOT NULL,    -- exactly the compact JSON built (no re-encoding)
            payload_bytes  integer NOT NULL,  -- compact UTF-8 JSON size, for splitting feed documents
            created_at     timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (channel_id, run_id, sku)
        );
        CREATE INDEX stage_plan_created ON mip.stage_plan (channel_id, created_at);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE mip.stage_plan, mip.stage_price, mip.stage_offer")
