"""A fresh state: the LWA application and, with ``--demo``, the demo accounts.

Deterministic for a given ``--seed`` (credentials included), so a demo rebuilt from scratch gets
the same client id, secret and refresh tokens.

- ``demo`` (A1MIPDEMOSELLER, eu): participates in IT, DE, FR, ES (not GB: the "country not created
  on Amazon" case); BIL IT->FR and IT->ES enabled; DE has no links.
- ``other`` (A2MIPOTHERSELLER, eu): participates in IT, FR (wrong Seller ID, cross-account
  international channels).
- ``inactive`` (A3MIPINACTIVE00, eu): every participation isParticipating=false (account not
  authorized to sell).
"""

from __future__ import annotations

import random
import string
import uuid

from sandbox.spapi.accounts import AccountSpec, create_account
from sandbox.spapi.auth import Tokens
from sandbox.spapi.demo_listings import csv_era_listings
from sandbox.spapi.listings.seed import seed_listings
from sandbox.spapi.state import LwaApp, State

DEMO_SELLER = "A1MIPDEMOSELLER"
OTHER_SELLER = "A2MIPOTHERSELLER"
INACTIVE_SELLER = "A3MIPINACTIVE00"


def _token(rng: random.Random, prefix: str, length: int) -> str:
    return prefix + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(length))


def demo_accounts(rng: random.Random) -> list[AccountSpec]:
    return [
        AccountSpec(
            "demo",
            DEMO_SELLER,
            "eu",
            "MIP Demo Store",
            "demo@mip.example",
            "demo-password",
            participating=["IT", "DE", "FR", "ES"],
            bil=[("IT", "FR", True), ("IT", "ES", True)],
            refresh_token=_token(rng, "Atzr|", 80),
        ),
        AccountSpec(
            "other",
            OTHER_SELLER,
            "eu",
            "Other Store",
            "other@mip.example",
            "other-password",
            participating=["IT", "FR"],
            refresh_token=_token(rng, "Atzr|", 80),
        ),
        AccountSpec(
            "inactive",
            INACTIVE_SELLER,
            "eu",
            "Inactive Store",
            "inactive@mip.example",
            "inactive-password",
            not_participating=["IT", "DE"],
            refresh_token=_token(rng, "Atzr|", 80),
        ),
    ]


def bootstrap(state: State, tokens: Tokens, demo: bool) -> bool:
    """Initialise a fresh state; returns False when the state directory already had one."""
    if state.db.meta("bootstrapped"):
        return False
    seed = state.seed
    rng = random.Random(f"sandbox:{seed}")
    state.set_app(
        LwaApp(
            client_id="amzn1.application-oa2-client." + "".join(rng.choice("0123456789abcdef") for _ in range(32)),
            client_secret="amzn1.oa2-cs.v1." + "".join(rng.choice("0123456789abcdef") for _ in range(64)),
            application_id=f"amzn1.sp.solution.{uuid.UUID(int=rng.getrandbits(128), version=4)}",
        )
    )
    if demo:
        for spec in demo_accounts(rng):
            create_account(state, tokens, spec)
        for seller_id, marketplace_id, listings in csv_era_listings(seed):
            seed_listings(state, seller_id, marketplace_id, listings)
    state.db.set_meta("bootstrapped", "demo" if demo else "empty")
    return True
