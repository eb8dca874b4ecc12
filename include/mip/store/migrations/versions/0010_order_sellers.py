"""Orders belong to a seller: the Seller ID (and account) every order, line, interval and page was read with.

``mip.orders`` / ``mip.order_items`` are keyed by (seller_id, amazon_order_id[, item_key]), the
stage tables and ``order_pages`` include the seller in their keys. ``order_intervals`` keeps its key
(channel_id, run_id): a run reads for exactly one seller (mip.orders.sellers), which the key
enforces; its seller_id says which.

Existing rows get the Seller ID their account had when they were written: the account of the
channel (``mip.channel_registry``, else the topology), and the seller of the last switch recorded
in ``mip.account_credentials_history`` before the row's time (before the first switch: that
switch's old Seller ID; without any switch: the account's latest recorded Seller ID, else the
topology's ``seller_id``).

Revision ID: 0010
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("orders", "order_items", "order_intervals", "order_pages", "stage_orders", "stage_order_items")
# the time each table's rows were written, to find the seller of that time
WRITTEN_AT = {
    "orders": "t.imported_at",
    "order_intervals": "t.started_at",
    "order_pages": "t.fetched_at",
    "stage_orders": "t.created_at",
}
KEYS = {
    "orders": ("seller_id", "amazon_order_id"),
    "order_items": ("seller_id", "amazon_order_id", "item_key"),
    "order_pages": ("channel_id", "seller_id", "run_id", "kind", "seq"),
    "stage_orders": ("channel_id", "seller_id", "run_id", "amazon_order_id"),
    "stage_order_items": ("channel_id", "seller_id", "run_id", "amazon_order_id", "item_key"),
}
OLD_KEYS = {
    "orders": ("amazon_order_id",),
    "order_items": ("amazon_order_id", "item_key"),
    "order_pages": ("channel_id", "run_id", "kind", "seq"),
    "stage_orders": ("channel_id", "run_id", "amazon_order_id"),
    "stage_order_items": ("channel_id", "run_id", "amazon_order_id", "item_key"),
}

SELLER_AT = """
CREATE FUNCTION pg_temp.mip_seller_at(account text, at timestamptz, fallback text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT seller_id FROM mip.account_credentials_history WHERE account_id = account
         AND old_seller_id IS NOT NULL AND recorded_at <= at ORDER BY recorded_at DESC, id DESC LIMIT 1),
        (SELECT old_seller_id FROM mip.account_credentials_history WHERE account_id = account
         AND old_seller_id IS NOT NULL ORDER BY recorded_at, id LIMIT 1),
        (SELECT seller_id FROM mip.account_credentials_history WHERE account_id = account
         ORDER BY recorded_at DESC, id DESC LIMIT 1),
        fallback)
$$
"""


def _topology_accounts() -> dict[str, tuple[str, str]]:
    """channel id -> (account id, Seller ID) of the deployment's topology; empty when it cannot be read."""
    try:
        from mip.config import load_topology

        topology = load_topology()
    except Exception:  # no topology here: the registry and the history must do
        return {}
    return {c.id: (c.account, topology.account_of(c).seller_id) for c in topology.channels}


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        op.execute(f"ALTER TABLE mip.{table} ADD COLUMN seller_id text, ADD COLUMN account_id text")
    op.execute("CREATE TEMP TABLE mip_channel_accounts (channel_id text PRIMARY KEY, account_id text, seller_id text)")
    op.execute(
        "INSERT INTO mip_channel_accounts (channel_id, account_id) "
        "SELECT channel_id, account_id FROM mip.channel_registry"
    )
    for channel_id, (account_id, seller_id) in _topology_accounts().items():
        bind.execute(
            sa.text(
                "INSERT INTO mip_channel_accounts VALUES (:channel, :account, :seller) ON CONFLICT (channel_id) DO "
                "UPDATE SET seller_id = CASE WHEN mip_channel_accounts.account_id = EXCLUDED.account_id "
                "THEN EXCLUDED.seller_id END"
            ),
            {"channel": channel_id, "account": account_id, "seller": seller_id},
        )
    op.execute(SELLER_AT)
    for table, written_at in WRITTEN_AT.items():
        op.execute(
            f"UPDATE mip.{table} t SET account_id = c.account_id, "
            f"seller_id = pg_temp.mip_seller_at(c.account_id, {written_at}, c.seller_id) "
            "FROM mip_channel_accounts c WHERE c.channel_id = t.channel_id"
        )
    op.execute(
        "UPDATE mip.order_items t SET account_id = o.account_id, seller_id = o.seller_id FROM mip.orders o "
        "WHERE o.amazon_order_id = t.amazon_order_id"
    )
    op.execute(
        "UPDATE mip.stage_order_items t SET account_id = o.account_id, seller_id = o.seller_id FROM mip.stage_orders o "
        "WHERE (o.channel_id, o.run_id, o.amazon_order_id) = (t.channel_id, t.run_id, t.amazon_order_id)"
    )
    unknown = list(
        bind.execute(
            sa.text(
                " UNION ".join(f"SELECT DISTINCT channel_id FROM mip.{t} WHERE seller_id IS NULL" for t in TABLES)
                + " ORDER BY 1"
            )
        ).scalars()
    )
    if unknown:
        raise RuntimeError(
            f"order rows of channel(s) {', '.join(unknown)} cannot be given a Seller ID: the channel is neither in "
            "mip.channel_registry nor in the topology with its account. Set MIP_CHANNELS_FILE to the deployment's "
            "topology (with those channels and their accounts' seller_id) and run the upgrade again"
        )
    for table in TABLES:
        op.execute(f"ALTER TABLE mip.{table} ALTER COLUMN seller_id SET NOT NULL, ALTER COLUMN account_id SET NOT NULL")
    for table, key in KEYS.items():
        op.execute(f"ALTER TABLE mip.{table} DROP CONSTRAINT {table}_pkey, ADD PRIMARY KEY ({', '.join(key)})")
    op.execute(
        """
        DROP INDEX mip.order_intervals_coverage;
        CREATE INDEX order_intervals_coverage ON mip.order_intervals (channel_id, seller_id, status, interval_start);
        CREATE INDEX orders_seller_channel ON mip.orders (seller_id, channel_id, last_update_date);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX mip.orders_seller_channel;
        DROP INDEX mip.order_intervals_coverage;
        CREATE INDEX order_intervals_coverage ON mip.order_intervals (channel_id, status, interval_start);
        """
    )
    for table, key in OLD_KEYS.items():
        op.execute(f"ALTER TABLE mip.{table} DROP CONSTRAINT {table}_pkey, ADD PRIMARY KEY ({', '.join(key)})")
    for table in TABLES:
        op.execute(f"ALTER TABLE mip.{table} DROP COLUMN seller_id, DROP COLUMN account_id")
