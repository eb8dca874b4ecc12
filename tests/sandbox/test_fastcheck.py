"""The fast feed-message pre-check never accepts a message the schema refuses."""

from __future__ import annotations

import copy
import random

from sandbox.spapi.contract import message_validator
from sandbox.spapi.feeds.fastcheck import surely_valid

BASE = [
    {
        "messageId": 1,
        "sku": "A",
        "operationType": "UPDATE",
        "productType": "HOME",
        "requirements": "LISTING",
        "attributes": {"item_name": [{"value": "x"}]},
    },
    {"messageId": 2, "sku": "B", "operationType": "DELETE"},
    {
        "messageId": 3,
        "sku": "C",
        "operationType": "PARTIAL_UPDATE",
        "productType": "HOME",
        "attributes": {"fulfillment_availability": [{"fulfillment_channel_code": "DEFAULT", "quantity": 1}]},
    },
    {
        "messageId": 4,
        "sku": "D",
        "operationType": "PATCH",
        "productType": "HOME",
        "patches": [{"op": "replace", "path": "/attributes/x", "value": [{"a": 1}]}],
    },
]
MUTATIONS = [
    ("messageId", [0, -1, 2**31, 1.0, True, "1", None]),
    ("sku", ["", 5, None]),
    ("operationType", ["update", "MERGE", None]),
    ("productType", ["", 3]),
    ("requirements", ["LISTING_OFFER_ONLY", "OTHER", 1]),
    ("attributes", [{}, [], {"a": []}]),
    (
        "patches",
        [
            [],
            [{"op": "move", "path": "/a"}],
            [{"op": "add"}],
            [{"op": "add", "path": "/a", "value": [1]}],
            [{"op": "delete", "path": "/attributes/x"}],
        ],
    ),
]


def test_surely_valid_is_sound_and_accepts_the_common_messages():
    validator = message_validator()
    for message in BASE:
        assert surely_valid(message) and validator.is_valid(message)
    rng = random.Random(7)
    accepted = 0
    for _ in range(3000):
        message = copy.deepcopy(rng.choice(BASE))
        for _ in range(rng.randint(1, 3)):
            name, values = rng.choice(MUTATIONS)
            if rng.random() < 0.25:
                message.pop(name, None)
            else:
                message[name] = copy.deepcopy(rng.choice(values))
        if surely_valid(message):
            accepted += 1
            assert validator.is_valid(message), message
    assert accepted > 100  # the mutations still leave plenty of valid messages to check
