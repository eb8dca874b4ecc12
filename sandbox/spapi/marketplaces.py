"""Amazon marketplaces as the sandbox's Amazon knows them (ids, region, currency, VAT, names).

Kept separate from ``mip.marketplaces`` on purpose: the sandbox plays Amazon, so a mistake in the
product's table must not be mirrored here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class Marketplace:
    country: str
    marketplace_id: str
    region: str
    currency: str
    language: str
    domain: str
    vat_percent: Decimal

    @property
    def name(self) -> str:
        return "Amazon." + self.domain.split("amazon.", 1)[1]

    @property
    def domain_name(self) -> str:
        return "www." + self.domain


def _m(country: str, marketplace_id: str, region: str, currency: str, language: str, domain: str, vat: str):
    return Marketplace(country, marketplace_id, region, currency, language, domain, Decimal(vat))


MARKETPLACES: dict[str, Marketplace] = {
    m.country: m
    for m in (
        _m("CA", "A2EUQ1WTGCTBG2", "na", "CAD", "en_CA", "amazon.ca", "0"),
        _m("US", "ATVPDKIKX0DER", "na", "USD", "en_US", "amazon.com", "0"),
        _m("MX", "A1AM78C64UM0Y8", "na", "MXN", "es_MX", "amazon.com.mx", "16"),
        _m("BR", "A2Q3Y263D00KWC", "na", "BRL", "pt_BR", "amazon.com.br", "0"),
        _m("IE", "A28R8C7NBKEWEA", "eu", "EUR", "en_IE", "amazon.ie", "23"),
        _m("ES", "A1RKKUPIHCS9HS", "eu", "EUR", "es_ES", "amazon.es", "21"),
        _m("GB", "A1F83G8C2ARO7P", "eu", "GBP", "en_GB", "amazon.co.uk", "20"),
        _m("FR", "A13V1IB3VIYZZH", "eu", "EUR", "fr_FR", "amazon.fr", "20"),
        _m("BE", "AMEN7PMS3EDWL", "eu", "EUR", "fr_BE", "amazon.com.be", "21"),
        _m("NL", "A1805IZSGTT6HS", "eu", "EUR", "nl_NL", "amazon.nl", "21"),
        _m("DE", "A1PA6795UKMFR9", "eu", "EUR", "de_DE", "amazon.de", "19"),
        _m("IT", "APJ6JRA9NG5V4", "eu", "EUR", "it_IT", "amazon.it", "22"),
        _m("SE", "A2NODRKZP88ZB9", "eu", "SEK", "sv_SE", "amazon.se", "25"),
        _m("ZA", "AE08WJ6YKNBMC", "eu", "ZAR", "en_ZA", "amazon.co.za", "15"),
        _m("PL", "A1C3SOZRARQ6R3", "eu", "PLN", "pl_PL", "amazon.pl", "23"),
        _m("EG", "ARBP9OOSHTCHU", "eu", "EGP", "ar_EG", "amazon.eg", "14"),
        _m("TR", "A33AVAJ2PDY3EV", "eu", "TRY", "tr_TR", "amazon.com.tr", "20"),
        _m("SA", "A17E79C6D8DWNP", "eu", "SAR", "ar_SA", "amazon.sa", "15"),
        _m("AE", "A2VIGQ35RCS4UG", "eu", "AED", "en_AE", "amazon.ae", "5"),
        _m("IN", "A21TJRUUN4KGV", "eu", "INR", "en_IN", "amazon.in", "18"),
        _m("SG", "A19VAU5U5O7RUS", "fe", "SGD", "en_SG", "amazon.sg", "9"),
        _m("AU", "A39IBJ37TRP1C6", "fe", "AUD", "en_AU", "amazon.com.au", "10"),
        _m("JP", "A1VC38T7YXB528", "fe", "JPY", "ja_JP", "amazon.co.jp", "10"),
    )
}
BY_ID: dict[str, Marketplace] = {m.marketplace_id: m for m in MARKETPLACES.values()}

# Units of each currency per 1 EUR, used for Build International Listings price conversion
# (a fixed table: the sandbox wants reproducible prices, not live rates).
EUR_RATES: dict[str, Decimal] = {
    "EUR": Decimal("1"),
    "GBP": Decimal("0.85"),
    "SEK": Decimal("11.50"),
    "PLN": Decimal("4.30"),
    "TRY": Decimal("35.00"),
    "USD": Decimal("1.08"),
    "CAD": Decimal("1.47"),
    "MXN": Decimal("18.50"),
    "BRL": Decimal("5.40"),
    "ZAR": Decimal("20.00"),
    "EGP": Decimal("52.00"),
    "SAR": Decimal("4.05"),
    "AED": Decimal("3.97"),
    "INR": Decimal("90.00"),
    "SGD": Decimal("1.45"),
    "AUD": Decimal("1.65"),
    "JPY": Decimal("160"),
}


def by_country(country: str) -> Marketplace:
    code = country.strip().upper()
    code = "GB" if code == "UK" else code
    try:
        return MARKETPLACES[code]
    except KeyError:
        raise KeyError(
            f"unknown marketplace country {country!r}; use one of {', '.join(sorted(MARKETPLACES))}"
        ) from None


def convert(amount: Decimal, source_currency: str, target_currency: str) -> Decimal:
    """Convert an amount between currencies through EUR, rounded to the target's cents."""
    if source_currency == target_currency:
        return amount
    eur = amount / EUR_RATES[source_currency]
    exponent = Decimal("1") if target_currency == "JPY" else Decimal("0.01")
    return (eur * EUR_RATES[target_currency]).quantize(exponent, rounding=ROUND_HALF_UP)
