"""The distributed test's table comparison (scripts/mipdist/tables.py) on real PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest
from mipdist.tables import differences, snapshot

SCHEMA = """
CREATE TABLE {s}.feed (
    id bigserial PRIMARY KEY, channel_id text NOT NULL, price numeric(12, 2), doc jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE {s}.listing (
    sku text PRIMARY KEY, last_feed_id bigint REFERENCES {s}.feed (id), status text,
    seen timestamp
);
"""


@pytest.fixture
def two_schemas(mip_url):
    with psycopg.connect(mip_url, autocommit=True) as conn:
        for name in ("snap_a", "snap_b"):
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}")
            conn.execute(SCHEMA.format(s=name))
        yield conn
        conn.execute("DROP SCHEMA snap_a CASCADE; DROP SCHEMA snap_b CASCADE")


def fill(conn: psycopg.Connection, schema: str, order: list[int], id_offset: int) -> None:
    rows = {1: ("it", "10.50", '{"b": 1, "a": [1, 2]}'), 2: ("de", "7.00", None)}
    conn.execute(f"SELECT setval('{schema}.feed_id_seq', {id_offset})")
    for key in order:
        feed_id = conn.execute(
            f"INSERT INTO {schema}.feed (channel_id, price, doc) VALUES (%s, %s, %s) RETURNING id", rows[key]
        ).fetchone()[0]
        conn.execute(
            f"INSERT INTO {schema}.listing VALUES (%s, %s, 'BUYABLE', now() - %s * interval '1 hour')",
            (f"SKU-{key}", feed_id, id_offset),
        )


def test_equal_rows_compare_equal_whatever_their_ids_timestamps_and_order(two_schemas, mip_url):
    fill(two_schemas, "snap_a", [1, 2], id_offset=1)
    fill(two_schemas, "snap_b", [2, 1], id_offset=500)
    a, b = snapshot(mip_url, "snap_a"), snapshot(mip_url, "snap_b")
    assert a["feed"].ignored == ["id", "created_at"]
    assert a["listing"].ignored == ["last_feed_id", "seen"]  # a reference to a serial id, a timestamp
    assert a["feed"].columns == ["channel_id", "price", "doc"]
    assert len(a["feed"].rows) == 2
    assert differences(a, b) == []


def test_a_different_value_or_a_missing_row_is_reported(two_schemas, mip_url):
    fill(two_schemas, "snap_a", [1, 2], id_offset=1)
    fill(two_schemas, "snap_b", [1, 2], id_offset=1)
    two_schemas.execute("UPDATE snap_b.feed SET price = 10.51 WHERE channel_id = 'it'")
    two_schemas.execute("DELETE FROM snap_b.listing WHERE sku = 'SKU-2'")
    problems = differences(snapshot(mip_url, "snap_a"), snapshot(mip_url, "snap_b"))
    assert len(problems) == 2
    feed, listing = problems
    assert feed.startswith("table feed (2 vs 2 rows)")
    assert "only in expected: ('it', '10.5'" in feed and "only in actual:   ('it', '10.51'" in feed
    assert listing.startswith("table listing (2 vs 1 rows)") and "'SKU-2'" in listing
