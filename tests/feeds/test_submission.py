"""Feed submissions against the sandbox: recorded before sent, resumed after a crash at any step
without a second createFeed, outcomes per SKU (accepted, rejected with issues, FATAL)."""

from __future__ import annotations

import time

import pytest
from stdnum import ean

from mip.amazon import feeds as amazon_feeds
from mip.listings import submission
from mip.listings.feeds import build_documents
from mip.listings.payloads import ListingContext, update_message
from mip.marketplaces import marketplace_for

IT = marketplace_for("IT")
CONTEXT = ListingContext.for_marketplace(IT)


def offer(sku: str, ean: str) -> dict:
    return {
        "sku": sku,
        "item_name": f"Test product {sku}",
        "brand": "Acme",
        "ean": ean,
        "product_type": "HOME",
        "description": "A sturdy test product. Made for tests.",
        "images": ["https://img.example/1.jpg"],
        "list_price": 30.0,
        "price": 24.99,
        "quantity": 5,
        "language": "it",
    }


# valid EAN-13s of one brand, one per message
EANS = [f"{body}{ean.calc_check_digit(body)}" for body in (f"400638133{n:03d}" for n in range(20))]


def document(prefix: str, count: int = 3):
    messages = [update_message(CONTEXT, offer(f"{prefix}-{i}", EANS[i])) for i in range(count)]
    build = build_documents(messages, seller_id="A1MIPDEMOSELLER", issue_locale="it_IT")
    assert not build.invalid
    return build.documents[0]


def recorded(db, key: str, doc) -> submission.Submission:
    return submission.record(
        db,
        batch_key=key,
        channel_id="it",
        dag_id="test",
        run_id=key,
        account_id="demo",
        seller_id="A1MIPDEMOSELLER",
        marketplace_id=IT.marketplace_id,
        document=doc,
    )


def feeds_created(sandbox) -> list[str]:
    truth = sandbox.admin("GET", "feeds", params={"seller_id": "A1MIPDEMOSELLER", "documents": "0"})
    return [f["feedId"] for f in truth]


def until_done(db, gateway, sub_id, sandbox) -> str:
    for _ in range(100):
        sandbox.tick()
        status = submission.poll(db, gateway, sub_id, "IT")
        if status in amazon_feeds.DONE_STATUSES:
            return status
        time.sleep(0.2)
    raise AssertionError("feed did not finish")


def test_record_send_wait_outcome(own_sandbox, make_gateway, db):
    gateway = make_gateway(own_sandbox)
    before = feeds_created(own_sandbox)
    sub = recorded(db, "t-happy", document("HAPPY"))
    assert recorded(db, "t-happy", document("HAPPY")).id == sub.id, "recording twice keeps one row"
    feed_id = submission.send(db, gateway, sub.id, "IT")
    assert submission.send(db, gateway, sub.id, "IT") == feed_id, "a re-run returns the recorded feed"
    assert len(feeds_created(own_sandbox)) == len(before) + 1
    assert until_done(db, gateway, sub.id, own_sandbox) == "DONE"
    result = submission.outcome(db, gateway, sub.id, "IT")
    assert sorted(result.accepted) == ["HAPPY-0", "HAPPY-1", "HAPPY-2"] and not result.rejected


def test_crash_before_create_feed_resumes_and_creates_once(own_sandbox, make_gateway, db):
    gateway = make_gateway(own_sandbox)
    sub = recorded(db, "t-crash-before", document("CRASHB"))
    document_created = amazon_feeds.create_feed_document(gateway, "IT")
    db.execute(
        "UPDATE mip.feed_submissions SET status = 'submitting', submitting_at = now(), feed_document_id = %s,"
        " upload_url = %s WHERE id = %s",
        (document_created.document_id, document_created.upload_url, sub.id),
    )
    row_document = db.execute("SELECT document FROM mip.feed_submissions WHERE id = %s", (sub.id,)).fetchone()[0]
    amazon_feeds.upload_feed_document(gateway, document_created, bytes(row_document))
    db.commit()
    before = feeds_created(own_sandbox)
    feed_id = submission.send(db, gateway, sub.id, "IT")
    assert feeds_created(own_sandbox) == [*before, feed_id], "no feed existed: exactly one is created"


def test_crash_after_create_feed_adopts_the_feed_instead_of_creating_another(own_sandbox, make_gateway, db):
    gateway = make_gateway(own_sandbox)
    sub = recorded(db, "t-crash-after", document("CRASHA"))
    submission.send(db, gateway, sub.id, "IT")  # a first attempt that succeeded...
    feed_id = submission.load(db, submission_id=sub.id).feed_id
    db.execute("UPDATE mip.feed_submissions SET status = 'submitting', feed_id = NULL WHERE id = %s", (sub.id,))
    db.commit()  # ...but died before recording the feed id
    before = feeds_created(own_sandbox)
    assert submission.send(db, gateway, sub.id, "IT") == feed_id
    assert feeds_created(own_sandbox) == before, "the resumed task must not create a second feed"


def test_fatal_and_partial_feeds_give_per_sku_outcomes(own_sandbox, make_gateway, db):
    gateway = make_gateway(own_sandbox)
    own_sandbox.set_faults(fatal_feeds=1)
    fatal = recorded(db, "t-fatal", document("FATAL", 2))
    submission.send(db, gateway, fatal.id, "IT")
    assert until_done(db, gateway, fatal.id, own_sandbox) == "FATAL"
    result = submission.outcome(db, gateway, fatal.id, "IT")
    assert not result.accepted and set(result.rejected) == {"FATAL-0", "FATAL-1"}
    assert result.fatal_reason

    own_sandbox.set_faults(partial_acceptance=0.5)
    try:
        # each message is refused with probability 0.5 (a hash of feed id and message id): 20 messages
        # hold both outcomes but for a chance of 2 in a million
        partial = recorded(db, "t-partial", document("PART", 20))
        submission.send(db, gateway, partial.id, "IT")
        assert until_done(db, gateway, partial.id, own_sandbox) == "DONE"
        result = submission.outcome(db, gateway, partial.id, "IT")
    finally:
        own_sandbox.reset_faults()
    assert result.accepted and result.rejected
    assert len(result.accepted) + len(result.rejected) == 20
    assert all(
        issue["severity"] == "ERROR" and issue["code"] for issues in result.rejected.values() for issue in issues
    )


def test_outcome_refuses_unfinished_feed(own_sandbox, make_gateway, db):
    gateway = make_gateway(own_sandbox)
    own_sandbox.set_faults(slow_feeds=1000)
    try:
        sub = recorded(db, "t-slow", document("SLOW", 1))
        submission.send(db, gateway, sub.id, "IT")
        submission.poll(db, gateway, sub.id, "IT")
        with pytest.raises(RuntimeError, match="still IN_QUEUE"):
            submission.outcome(db, gateway, sub.id, "IT")
    finally:
        own_sandbox.reset_faults()
