"""Everything a request handler needs: settings, the database, the clock, faults, usage plans, stats."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.spapi import contract
from sandbox.spapi.clock import Clock
from sandbox.spapi.db import Database
from sandbox.spapi.faults import Faults, FaultSwitch
from sandbox.spapi.ratelimit import RateLimiter
from sandbox.spapi.restricted import RestrictedTokens
from sandbox.spapi.stats import CallStats


@dataclass
class Settings:
    state_dir: Path
    port: int = 8100
    host: str = "127.0.0.1"
    time_scale: float = 1.0
    seed: int = 1
    demo: bool = True
    orders_per_hour: float = 0.0  # background order generation, Amazon time
    bil_delay_minutes: float = 10.0  # Build International Listings copy delay, Amazon time
    validate_responses: bool = False  # check every response against the model (tests)
    # MFN orders stay Unshipped until the seller's confirmShipment (fulfilment); else they ship on their own
    ship_on_confirmation: bool = False
    faults: Faults = field(default_factory=Faults)
    tick_seconds: float = 0.2  # how often the background worker looks for due work (real time)
    log_level: str = "warning"
    sqs_endpoint: str | None = None  # the SQS server ORDER_CHANGE notifications go to (sandbox/sqs.py)


@dataclass(frozen=True)
class LwaApp:
    client_id: str
    client_secret: str
    application_id: str
    name: str = "MIP (sandbox)"


class State:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.state_dir / "spapi.sqlite3")
        self.clock = Clock(settings.time_scale)
        self.faults = FaultSwitch(
            settings.seed, settings.faults, frozenset(op.operation_id for op in contract.operations())
        )
        self.limiter = RateLimiter(settings.time_scale)
        self.stats = CallStats()
        self.rdts = RestrictedTokens()
        self.rng = random.Random(settings.seed)
        self._rng_lock = threading.Lock()
        self.port = settings.port
        if self.db.meta("seed") is None:
            self.db.set_meta("seed", str(settings.seed))
            self.db.set_meta("secret", secrets.token_hex(32))
        self.secret = self.db.meta("secret").encode()
        self.seed = int(self.db.meta("seed"))  # a state keeps the seed it was created with
        self.wakeup = threading.Event()  # set to make the background worker look for work now

    # --- identity of the single LWA application ---------------------------------------------
    @property
    def app(self) -> LwaApp:
        raw = self.db.meta("lwa_app")
        if raw is None:
            raise RuntimeError("the sandbox has no LWA application yet (bootstrap did not run)")
        return LwaApp(**json.loads(raw))

    def set_app(self, app: LwaApp) -> None:
        self.db.set_meta("lwa_app", json.dumps(app.__dict__))

    # --- helpers ------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sign(self, text: str) -> str:
        return hmac.new(self.secret, text.encode(), hashlib.sha256).hexdigest()[:32]

    def verify(self, text: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(text), signature or "")

    def random_token(self, alphabet: str, length: int) -> str:
        with self._rng_lock:
            return "".join(self.rng.choice(alphabet) for _ in range(length))

    def amazon_delay(self, amazon_seconds: float) -> float:
        """Real seconds from now until an Amazon duration has passed."""
        return self.clock.real(amazon_seconds)

    def kick(self) -> None:
        self.wakeup.set()

    def describe(self) -> dict[str, Any]:
        return {
            "time_scale": self.settings.time_scale,
            "seed": self.seed,
            "now": self.clock.now(),
            "orders_per_hour": self.settings.orders_per_hour,
            "bil_delay_minutes": self.settings.bil_delay_minutes,
            "sqs_endpoint": self.settings.sqs_endpoint,
        }
