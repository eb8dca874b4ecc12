"""The shipped usage plans are Amazon's, as the models in ../shared/amazon-models state them."""

from __future__ import annotations

import json

import pytest

from mip.amazon.usage_plans import SHIPPED, extract, usage_plan
from tests.conftest import ROOT

SHARED_MODELS = ROOT.parent / "shared" / "amazon-models"


def test_shipped_usage_plans_match_the_official_models():
    if not SHARED_MODELS.is_dir():
        pytest.skip(
            f"{SHARED_MODELS} is not present on this machine: the shipped usage plans are compared with "
            "Amazon's models where that folder exists"
        )
    assert json.loads(SHIPPED.read_text()) == extract(SHARED_MODELS)


def test_known_plans():
    assert (usage_plan("getOrders").rate, usage_plan("getOrders").burst) == (0.0167, 20)
    assert (usage_plan("getOrderItems").rate, usage_plan("getOrderItems").burst) == (0.5, 30)
    assert (usage_plan("createFeed").rate, usage_plan("createFeed").burst) == (0.0083, 15)
