"""What a verification run needs to decide: the copy delay, the failure threshold, the exchange rate.

The exchange rate converts the main channel's price into the channel's currency (units of the
channel's currency per unit of the main channel's). Equal currencies need none (1). Otherwise it
comes from the run (Param ``exchange_rate``) or from the deployment's table of rates (the Airflow
Variable ``mip_exchange_rates``, JSON such as ``{"EUR:GBP": 0.85, "EUR:SEK": 11.5}``; the inverse
pair is used when only that one is given). Without a rate the prices are still recorded, only
the ratio is not computed, and the summary says how to configure it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

EXCHANGE_RATES_VARIABLE = "mip_exchange_rates"
DEFAULT_COPY_DELAY_HOURS = Decimal(24)
DEFAULT_FAIL_MISSING_PERCENT = Decimal(50)


class SettingsError(ValueError):
    """A setting of the run is wrong; the message names it and the fix."""


@dataclass(frozen=True)
class VerifySettings:
    copy_delay_hours: Decimal = DEFAULT_COPY_DELAY_HOURS
    # Fail (not only warn) when more than this share of the offers old enough to be copied is missing.
    fail_missing_percent: Decimal = DEFAULT_FAIL_MISSING_PERCENT
    exchange_rate: Decimal | None = None

    @property
    def copy_delay(self) -> timedelta:
        return timedelta(hours=float(self.copy_delay_hours))


def _decimal(value: Any, name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise SettingsError(f"{name} is {value!r}, not a number") from None
    if not number.is_finite():
        raise SettingsError(f"{name} is {value!r}, not a finite number")
    return number


def exchange_rate(main_currency: str, currency: str, given: Any = None, table: str | None = None) -> Decimal | None:
    """Units of ``currency`` per unit of ``main_currency``: 1 for equal currencies, else ``given``, else the
    table (the Variable's JSON text), else None (unknown)."""
    if main_currency == currency:
        if given not in (None, "") and _decimal(given, "exchange_rate") != 1:
            raise SettingsError(
                f"exchange_rate is {given} but both channels sell in {currency}; leave exchange_rate empty"
            )
        return Decimal(1)
    if given not in (None, ""):
        rate = _decimal(given, "exchange_rate")
        if rate <= 0:
            raise SettingsError(f"exchange_rate is {given}; give {currency} per 1 {main_currency}, a number > 0")
        return rate
    if not table:
        return None
    try:
        rates = json.loads(table)
    except ValueError as exc:
        raise SettingsError(
            f"the Airflow Variable {EXCHANGE_RATES_VARIABLE} is not valid JSON ({exc}); write e.g. "
            '{"EUR:GBP": 0.85, "EUR:SEK": 11.5} (units of the second currency per 1 of the first)'
        ) from None
    if not isinstance(rates, dict):
        raise SettingsError(
            f'the Airflow Variable {EXCHANGE_RATES_VARIABLE} must be a JSON object like {{"EUR:GBP": 0.85}}'
        )
    for key, invert in ((f"{main_currency}:{currency}", False), (f"{currency}:{main_currency}", True)):
        if key in rates:
            rate = _decimal(rates[key], f"{EXCHANGE_RATES_VARIABLE}[{key!r}]")
            if rate <= 0:
                raise SettingsError(f"{EXCHANGE_RATES_VARIABLE}[{key!r}] is {rates[key]}; a rate must be > 0")
            return (Decimal(1) / rate).quantize(Decimal("0.000001")) if invert else rate
    return None


def verify_settings(
    params: dict[str, Any], main_currency: str, currency: str, rates_table: str | None = None
) -> VerifySettings:
    """The run's settings from its Params (missing ones take the defaults)."""
    delay = _decimal(params.get("copy_delay_hours", DEFAULT_COPY_DELAY_HOURS), "copy_delay_hours")
    if delay < 0:
        raise SettingsError(f"copy_delay_hours is {delay}; give the hours Amazon may take to copy an offer (>= 0)")
    fail = _decimal(params.get("fail_missing_percent", DEFAULT_FAIL_MISSING_PERCENT), "fail_missing_percent")
    if not 0 <= fail <= 100:
        raise SettingsError(f"fail_missing_percent is {fail}; give a percentage between 0 and 100")
    rate = exchange_rate(main_currency, currency, params.get("exchange_rate"), rates_table)
    return VerifySettings(delay, fail, rate)
