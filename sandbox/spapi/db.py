"""The sandbox's state: one SQLite database (WAL) in the state directory, so a restart keeps it.

Each thread gets its own connection (the event loop, the background worker, the thread pool).
Write transactions are short (``BEGIN IMMEDIATE``); the background worker applies big feeds in
chunks so request handlers never wait long for the write lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA_VERSION = "1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    seller_id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    region TEXT NOT NULL,
    store_name TEXT NOT NULL,
    login_email TEXT NOT NULL UNIQUE,
    login_password TEXT NOT NULL,
    authorized_at REAL
);
CREATE TABLE IF NOT EXISTS participations (
    seller_id TEXT NOT NULL,
    marketplace_id TEXT NOT NULL,
    participating INTEGER NOT NULL,
    suspended_listings INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (seller_id, marketplace_id)
);
CREATE TABLE IF NOT EXISTS bil_links (
    seller_id TEXT NOT NULL,
    source_mp TEXT NOT NULL,
    target_mp TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    PRIMARY KEY (seller_id, source_mp, target_mp)
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token TEXT PRIMARY KEY,
    seller_id TEXT NOT NULL,
    issued_at REAL NOT NULL,
    revoked_at REAL
);
CREATE TABLE IF NOT EXISTS access_tokens (
    token TEXT PRIMARY KEY,
    seller_id TEXT NOT NULL,
    refresh_token TEXT NOT NULL,
    issued_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS auth_codes (
    code TEXT PRIMARY KEY,
    seller_id TEXT NOT NULL,
    issued_at REAL NOT NULL,
    used_at REAL,
    country TEXT,
    redirect_uri TEXT
);
CREATE TABLE IF NOT EXISTS catalog_items (
    asin TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    gtin TEXT,
    brand TEXT,
    item_name TEXT,
    product_type TEXT,
    created_at REAL NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS catalog_items_gtin ON catalog_items (region, gtin) WHERE gtin IS NOT NULL;
CREATE TABLE IF NOT EXISTS listings (
    seller_id TEXT NOT NULL,
    marketplace_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    product_type TEXT NOT NULL,
    requirements TEXT NOT NULL,
    attributes TEXT NOT NULL,
    issues TEXT NOT NULL,
    asin TEXT,
    item_name TEXT,
    brand TEXT,
    gtin TEXT,
    gtin_type TEXT,
    condition_type TEXT,
    price TEXT,
    currency TEXT,
    quantity INTEGER,
    fulfillment_channel TEXT,
    buyable INTEGER NOT NULL,
    image TEXT,
    description TEXT,
    source TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
-- a rowid table: listing rows (~1 KiB of attributes) would overflow a WITHOUT ROWID b-tree
CREATE UNIQUE INDEX IF NOT EXISTS listings_key ON listings (seller_id, marketplace_id, sku);
CREATE INDEX IF NOT EXISTS listings_updated ON listings (seller_id, marketplace_id, updated_at);
CREATE INDEX IF NOT EXISTS listings_asin ON listings (seller_id, asin);
CREATE TABLE IF NOT EXISTS bil_pending (
    id INTEGER PRIMARY KEY,
    seller_id TEXT NOT NULL,
    source_mp TEXT NOT NULL,
    target_mp TEXT NOT NULL,
    sku TEXT NOT NULL,
    action TEXT NOT NULL,
    due_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS bil_pending_due ON bil_pending (due_at);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    seller_id TEXT NOT NULL,
    content_type TEXT,
    compression TEXT,
    created_at REAL NOT NULL,
    uploaded_at REAL,
    content BLOB
);
CREATE TABLE IF NOT EXISTS feeds (
    feed_id TEXT PRIMARY KEY,
    seller_id TEXT NOT NULL,
    feed_type TEXT NOT NULL,
    marketplace_ids TEXT NOT NULL,
    input_doc_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    status TEXT NOT NULL,
    start_at REAL NOT NULL,
    processing_start REAL,
    processing_end REAL,
    done_at REAL,
    result_doc_id TEXT,
    messages INTEGER,
    accepted INTEGER,
    invalid INTEGER,
    errors INTEGER,
    warnings INTEGER,
    fatal_reason TEXT,
    outcome TEXT,
    forced_fatal INTEGER NOT NULL DEFAULT 0,
    slow_factor REAL NOT NULL DEFAULT 1,
    partial_fraction REAL NOT NULL DEFAULT 0,
    compute_seconds REAL
);
CREATE INDEX IF NOT EXISTS feeds_status ON feeds (status);
CREATE TABLE IF NOT EXISTS reports (
    report_id TEXT PRIMARY KEY,
    seller_id TEXT NOT NULL,
    report_type TEXT NOT NULL,
    marketplace_ids TEXT NOT NULL,
    data_start REAL,
    data_end REAL,
    options TEXT,
    created_at REAL NOT NULL,
    status TEXT NOT NULL,
    start_at REAL NOT NULL,
    processing_start REAL,
    processing_end REAL,
    done_at REAL,
    doc_id TEXT,
    rows INTEGER,
    faults TEXT
);
CREATE INDEX IF NOT EXISTS reports_status ON reports (status);
CREATE TABLE IF NOT EXISTS orders (
    amazon_order_id TEXT PRIMARY KEY,
    seller_id TEXT NOT NULL,
    marketplace_id TEXT NOT NULL,
    purchase_date INTEGER NOT NULL,
    last_update_date INTEGER NOT NULL,
    status TEXT NOT NULL,
    fulfillment_channel TEXT NOT NULL,
    ship_service_level TEXT NOT NULL,
    currency TEXT NOT NULL,
    order_total TEXT NOT NULL,
    paid INTEGER NOT NULL,
    items_count INTEGER NOT NULL,
    ship_city TEXT,
    ship_postal_code TEXT,
    ship_country TEXT,
    is_business INTEGER NOT NULL DEFAULT 0,
    is_prime INTEGER NOT NULL DEFAULT 0,
    latest_ship_date INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS orders_by_update ON orders (seller_id, marketplace_id, last_update_date, amazon_order_id);
CREATE INDEX IF NOT EXISTS orders_by_purchase ON orders (seller_id, marketplace_id, purchase_date, amazon_order_id);
CREATE TABLE IF NOT EXISTS order_items (
    amazon_order_id TEXT NOT NULL,
    order_item_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    seller_sku TEXT NOT NULL,
    asin TEXT NOT NULL,
    title TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price TEXT NOT NULL,
    shipping_price TEXT NOT NULL,
    PRIMARY KEY (amazon_order_id, order_item_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS order_events (
    id INTEGER PRIMARY KEY,
    amazon_order_id TEXT NOT NULL,
    at REAL NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS order_events_at ON order_events (at);
CREATE TABLE IF NOT EXISTS destinations (
    destination_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    arn TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
    subscription_id TEXT PRIMARY KEY,
    seller_id TEXT NOT NULL,
    notification_type TEXT NOT NULL,
    payload_version TEXT NOT NULL,
    destination_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (seller_id, notification_type)
);
CREATE TABLE IF NOT EXISTS notification_outbox (
    id INTEGER PRIMARY KEY,
    seller_id TEXT NOT NULL,
    amazon_order_id TEXT NOT NULL,
    change_type TEXT NOT NULL,
    status TEXT NOT NULL,
    changed_at REAL NOT NULL,
    due_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    notification_id TEXT,
    copies INTEGER NOT NULL DEFAULT 0,
    sent_at REAL
);
CREATE INDEX IF NOT EXISTS notification_outbox_due ON notification_outbox (state, due_at);
"""


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = self.conn()
        conn.executescript(SCHEMA)  # executescript manages its own transaction
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=60000")
            conn.execute("PRAGMA cache_size=-65536")
            self._local.conn = conn
        return conn

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``), committed on success, rolled back on error."""
        conn = self.conn()
        if conn.in_transaction:  # nested use joins the outer transaction
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def query(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        return self.conn().execute(sql, params).fetchall()

    def one(self, sql: str, params: tuple | list = ()) -> sqlite3.Row | None:
        return self.conn().execute(sql, params).fetchone()

    def next_value(self, name: str, start: int = 1) -> int:
        """The next value of a named counter (ids that survive restarts); call inside a transaction."""
        conn = self.conn()
        row = conn.execute(
            "INSERT INTO counters VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
            (name, start),
        ).fetchone()
        return int(row[0])

    def reserve(self, name: str, count: int) -> int:
        """Reserve ``count`` consecutive values of a counter; returns the first (call in a transaction)."""
        row = (
            self.conn()
            .execute(
                "INSERT INTO counters VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + ? RETURNING value",
                (name, count, count),
            )
            .fetchone()
        )
        return int(row[0]) - count

    def meta(self, key: str) -> str | None:
        row = self.one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        with self.tx() as conn:
            conn.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value)
            )

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
