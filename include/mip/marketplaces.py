"""Amazon's SP-API marketplaces: country code -> marketplace id, region, currency, language, VAT.

Source: Amazon's "Marketplace IDs" and "SP-API endpoints" developer docs. Country codes are the
ones Amazon uses in those tables (``UK`` is accepted as an alias of ``GB``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

REGION_ENDPOINTS = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
LWA_HOST = "api.amazon.com"


@dataclass(frozen=True)
class Marketplace:
    country: str
    marketplace_id: str
    region: str
    currency: str
    language_tag: str
    seller_central: str
    standard_vat: Decimal

    @property
    def endpoint(self) -> str:
        return REGION_ENDPOINTS[self.region]

    @property
    def consent_url(self) -> str:
        return f"https://{self.seller_central}/apps/authorize/consent"


def _m(country, marketplace_id, region, currency, language, seller_central, vat) -> Marketplace:
    return Marketplace(country, marketplace_id, region, currency, language, seller_central, Decimal(vat))


MARKETPLACES: dict[str, Marketplace] = {
    m.country: m
    for m in (
        _m("CA", "A2EUQ1WTGCTBG2", "na", "CAD", "en_CA", "sellercentral.amazon.ca", "0"),
        _m("US", "ATVPDKIKX0DER", "na", "USD", "en_US", "sellercentral.amazon.com", "0"),
        _m("MX", "A1AM78C64UM0Y8", "na", "MXN", "es_MX", "sellercentral.amazon.com.mx", "16"),
        _m("BR", "A2Q3Y263D00KWC", "na", "BRL", "pt_BR", "sellercentral.amazon.com.br", "0"),
        _m("IE", "A28R8C7NBKEWEA", "eu", "EUR", "en_IE", "sellercentral.amazon.ie", "23"),
        _m("ES", "A1RKKUPIHCS9HS", "eu", "EUR", "es_ES", "sellercentral.amazon.es", "21"),
        _m("GB", "A1F83G8C2ARO7P", "eu", "GBP", "en_GB", "sellercentral.amazon.co.uk", "20"),
        _m("FR", "A13V1IB3VIYZZH", "eu", "EUR", "fr_FR", "sellercentral.amazon.fr", "20"),
        _m("BE", "AMEN7PMS3EDWL", "eu", "EUR", "fr_BE", "sellercentral.amazon.com.be", "21"),
        _m("NL", "A1805IZSGTT6HS", "eu", "EUR", "nl_NL", "sellercentral.amazon.nl", "21"),
        _m("DE", "A1PA6795UKMFR9", "eu", "EUR", "de_DE", "sellercentral.amazon.de", "19"),
        _m("IT", "APJ6JRA9NG5V4", "eu", "EUR", "it_IT", "sellercentral.amazon.it", "22"),
        _m("SE", "A2NODRKZP88ZB9", "eu", "SEK", "sv_SE", "sellercentral.amazon.se", "25"),
        _m("ZA", "AE08WJ6YKNBMC", "eu", "ZAR", "en_ZA", "sellercentral.amazon.co.za", "15"),
        _m("PL", "A1C3SOZRARQ6R3", "eu", "PLN", "pl_PL", "sellercentral.amazon.pl", "23"),
        _m("EG", "ARBP9OOSHTCHU", "eu", "EGP", "ar_EG", "sellercentral.amazon.eg", "14"),
        _m("TR", "A33AVAJ2PDY3EV", "eu", "TRY", "tr_TR", "sellercentral.amazon.com.tr", "20"),
        _m("SA", "A17E79C6D8DWNP", "eu", "SAR", "ar_SA", "sellercentral.amazon.sa", "15"),
        _m("AE", "A2VIGQ35RCS4UG", "eu", "AED", "en_AE", "sellercentral.amazon.ae", "5"),
        _m("IN", "A21TJRUUN4KGV", "eu", "INR", "en_IN", "sellercentral.amazon.in", "18"),
        _m("SG", "A19VAU5U5O7RUS", "fe", "SGD", "en_SG", "sellercentral.amazon.sg", "9"),
        _m("AU", "A39IBJ37TRP1C6", "fe", "AUD", "en_AU", "sellercentral.amazon.com.au", "10"),
        _m("JP", "A1VC38T7YXB528", "fe", "JPY", "ja_JP", "sellercentral.amazon.co.jp", "10"),
    )
}
COUNTRY_ALIASES = {"UK": "GB"}
BY_MARKETPLACE_ID: dict[str, Marketplace] = {m.marketplace_id: m for m in MARKETPLACES.values()}


def normalise_country(code: str) -> str:
    code = code.strip().upper()
    return COUNTRY_ALIASES.get(code, code)


def marketplace_for(country: str) -> Marketplace:
    """The marketplace of a country code; KeyError names the accepted codes."""
    code = normalise_country(country)
    try:
        return MARKETPLACES[code]
    except KeyError:
        raise KeyError(
            f"{country!r} is not an SP-API marketplace country; use one of {', '.join(sorted(MARKETPLACES))}"
        ) from None
