"""The OAuth state: signed, expiring, single-use and bound to the user (real PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from mip.airflow.page import state as states

KEY = states.derive_key("the api secret_key of this test")


def issue(db, user: str = "admin", **kwargs) -> str:
    token = states.issue(
        db,
        KEY,
        purpose="connect",
        account_id="demo",
        channel_id="it",
        seller_id="A1MIPDEMOSELLER",
        country="IT",
        user_name=user,
        **kwargs,
    )
    db.commit()
    return token


def refused(db, token: str, user: str = "admin", key: bytes = KEY, **kwargs) -> str:
    with pytest.raises(states.StateRefused) as caught:
        states.consume(db, key, token, user, **kwargs)
    return caught.value.reason


def test_a_state_works_once(db):
    token = issue(db)
    authorization = states.consume(db, KEY, token, "admin")
    assert (authorization.account_id, authorization.channel_id, authorization.seller_id) == (
        "demo",
        "it",
        "A1MIPDEMOSELLER",
    )
    assert refused(db, token) == "replayed"


def test_tampered_states_are_refused(db):
    token = issue(db)
    version, nonce, expires, signature = token.split(".")
    other_nonce = issue(db).split(".")[1]
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert refused(db, f"{version}.{nonce}.{expires}.{flipped}") == "bad_signature"
    assert refused(db, f"{version}.{other_nonce}.{expires}.{signature}") == "bad_signature"
    assert refused(db, f"{version}.{nonce}.{int(expires) + 3600}.{signature}") == "bad_signature"
    assert refused(db, "not-a-state") == "malformed"
    assert refused(db, token, key=states.derive_key("another MIP's secret")) == "bad_signature"
    # none of the refusals used it up
    assert states.consume(db, KEY, token, "admin").nonce == nonce


def test_an_expired_state_is_refused(db):
    past = datetime.now(UTC) - states.TTL - timedelta(seconds=1)
    token = issue(db, now=past)
    assert refused(db, token) == "expired"
    # the server-side expiry counts too (e.g. shortened after issuing)
    token = issue(db)
    nonce = token.split(".")[1]
    db.execute(
        "UPDATE mip.marketplace_authorizations SET expires_at = now() - interval '1 second' WHERE nonce = %s", (nonce,)
    )
    db.commit()
    assert refused(db, token) == "expired"


def test_a_state_belongs_to_the_user_who_started_it(db):
    token = issue(db, user="alice")
    assert refused(db, token, user="mallory") == "other_user"
    assert states.consume(db, KEY, token, "alice").user_name == "alice"


def test_a_signed_state_without_its_record_is_refused(db):
    token = issue(db)
    db.execute("DELETE FROM mip.marketplace_authorizations WHERE nonce = %s", (token.split(".")[1],))
    db.commit()
    assert refused(db, token) == "unknown"


def test_two_racing_callbacks_cannot_both_use_a_state(mip_url, db):
    from mip.store.db import connect

    token = issue(db)
    results: list[str] = []
    barrier = threading.Barrier(4)

    def attempt() -> None:
        with connect(mip_url) as conn:
            barrier.wait()
            try:
                states.consume(conn, KEY, token, "admin")
                results.append("used")
            except states.StateRefused as exc:
                results.append(exc.reason)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["replayed", "replayed", "replayed", "used"]


def test_the_outcome_is_shown_only_to_its_user(db):
    token = issue(db)
    nonce = states.consume(db, KEY, token, "admin").nonce
    assert states.outcome_of(db, nonce, "admin") is None  # still pending
    states.record_outcome(db, nonce, outcome="connected", message="{}", selling_partner_id="A1MIPDEMOSELLER")
    assert states.outcome_of(db, nonce, "admin")["outcome"] == "connected"
    assert states.outcome_of(db, nonce, "viewer") is None


def test_an_empty_secret_key_is_an_error():
    with pytest.raises(ValueError, match="AIRFLOW__API__SECRET_KEY"):
        states.derive_key("")
