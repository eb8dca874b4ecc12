"""The demo seller's CSV-era listings, and the ground truth of which ones duplicate catalog products.

``csv_era_listings(seed)`` returns ``(seller_id, marketplace_id, listings)`` triples that the demo
bootstrap passes to ``sandbox.spapi.listings.seed.seed_listings`` (see its docstring for the listing
format): what a seller who once synchronised Amazon by CSV/flat file has in IT and DE before MIP.
They are drawn from the demo supplier catalog, ``sandbox.catalog.generate(5000, seed)`` (the same
generator and seed ``make up`` uses for the supplier files), so some are the same products MIP
publishes. ``csv_era_manifest(seed)`` says, per listing, what it is (``Truth``); the migration tests
read it to measure precision and recall. Kinds:

Planned (they duplicate a product MIP publishes):

- ``other_ean``: a catalog product under another (valid) EAN, found by brand + title or by the
  reference in the SKU: the case the migration exists for;
- ``same_gtin``: the catalog product's EAN under another SKU;
- ``upc_ean``: the same GTIN written differently (UPC-12 here, EAN-13 with a leading zero in the catalog);
- ``sku_reference``: an offer on its own ASIN, no GTIN, the supplier reference inside the SKU, a title
  of the seller's own;
- ``brand_title``: an offer on its own ASIN, no GTIN, the catalog brand and title (case, punctuation,
  spacing or accents changed);
- ``same_asin``: an offer on the ASIN of a ``same_gtin`` listing, no GTIN of its own.

Never planned:

- ``fba_duplicate``: a duplicate like the above, fulfilled by Amazon (AFN);
- ``not_selected``: a duplicate of a product the channel does not publish (IT: Grocery; DE: Electronics);
- ``near_miss``: the brand and noun of a catalog product with another model number and another EAN;
- ``unrelated``: a product of the seller that is not in the catalog.

Products are picked among those the demo channels select (IT: everything but Grocery, stock >= 2,
cost 3-350 EUR; DE: Home & Kitchen, Sports & Outdoors, Toys & Games without Piccolo, stock >= 1)
with a name in the marketplace's language, and, for title-based kinds, a title no other catalog
product shares. Whether a duplicate is *planned* also depends on the channel's selection at run time,
so tests combine the manifest with the selection (a duplicate of a product MIP does not publish is
never planned). Everything is a function of ``seed``.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from stdnum import ean as stdnum_ean

DEMO_SELLER = "A1MIPDEMOSELLER"
CATALOG_COUNT = 5000
MARKETPLACE_IDS = {"IT": "APJ6JRA9NG5V4", "DE": "A1PA6795UKMFR9"}
LANGUAGE = {"IT": "it", "DE": "de"}
# listings per marketplace and kind (unrelated listings keep the planned share realistic: ~15%)
COUNTS = {
    "other_ean": 24,
    "same_gtin": 8,
    "upc_ean": 4,
    "sku_reference": 6,
    "brand_title": 6,
    "same_asin": 4,
    "fba_duplicate": 6,
    "not_selected": 4,
    "near_miss": 6,
    "unrelated": 260,
}
PLANNED_KINDS = ("other_ean", "same_gtin", "upc_ean", "sku_reference", "brand_title", "same_asin")
# GS1 prefixes no demo catalog brand uses (the catalog's are 300-302, 400-407, 800-809, 840-844; UPCs 06-08)
FOREIGN_PREFIXES = ("590", "594", "599", "760", "869")
UNRELATED_BRANDS = ("Generico", "Mondo Casa", "Varia Line", "Bestseller24", "Hausfreund", "Stilnovo")
UNRELATED_WORDS = {
    "IT": ("Set di", "Organizer", "Portaoggetti", "Lampadina LED", "Cavo HDMI", "Borraccia", "Zaino", "Ombrello"),
    "DE": ("Aufbewahrungsbox", "Organizer", "LED-Lampe", "HDMI-Kabel", "Trinkflasche", "Rucksack", "Regenschirm"),
}
SELLER_TITLES = {"IT": "Articolo {brand} originale", "DE": "Original {brand} Artikel"}


@dataclass(frozen=True)
class Truth:
    """What one seeded CSV-era listing is (see the module docstring for the kinds)."""

    country: str
    marketplace_id: str
    sku: str
    kind: str
    reference: str | None  # the catalog product it duplicates (None: unrelated)
    fulfillment: str  # MFN | AFN
    via: str  # how it duplicates the product (other_ean: "title" / "sku"; fba_duplicate: the kind it copies)


_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def normalise_title(text: str) -> str:
    """Case, accents and punctuation removed: the same normalisation as the product's title matching."""
    text = text.casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(_NOT_ALNUM.sub(" ", text).split())


def _foreign_ean(rng: random.Random) -> str:
    body = rng.choice(FOREIGN_PREFIXES) + f"{rng.randrange(10**9):09d}"
    return body + stdnum_ean.calc_check_digit(body)


def _asin(rng: random.Random) -> str:
    return "B0C" + "".join(rng.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(7))


def _selected(product, country: str) -> bool:
    """The demo channels' selection (include/channels.yaml), as far as the CSV seller's picks go."""
    group, stock, cost = product.reference[0], int(product.stock), float(product.cost_price)
    if country == "IT":
        return group != "G" and stock >= 2 and 3 <= cost < 350
    return group in "VOT" and product.brand != "Piccolo" and stock >= 1


def _excluded(product, country: str) -> bool:
    return product.reference[0] == ("G" if country == "IT" else "S")


def _varied(title: str, rng: random.Random) -> str:
    """The same title as a seller would retype it: case, punctuation, spaces or accents changed."""
    choice = rng.randrange(4)
    if choice == 0:
        return title.upper()
    if choice == 1:
        return title.replace(", ", " - ")
    if choice == 2:
        return "  ".join(title.split(" "))
    decomposed = unicodedata.normalize("NFKD", title)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class _Picker:
    """Products in a random order (drawn once), handed out at most once across both marketplaces."""

    def __init__(self, products: list, rng: random.Random, used: set[str]):
        self.order = products[:]
        rng.shuffle(self.order)
        self.used = used

    def pick(self, wanted) -> Any:
        for product in self.order:
            if product.reference not in self.used and wanted(product):
                self.used.add(product.reference)
                return product
        raise LookupError("the demo catalog has no product left for a CSV-era listing")


class _Marketplace:
    """The CSV-era listings of one marketplace and their truth, as they are generated."""

    def __init__(self, country: str, rng: random.Random, truths: list[Truth]):
        self.country, self.rng, self.truths = country, rng, truths
        self.marketplace_id, self.language = MARKETPLACE_IDS[country], LANGUAGE[country]
        self.listings: list[dict[str, Any]] = []
        self.number = 0

    def add(self, kind: str, product, fulfillment: str = "MFN", via: str = "", **fields: Any) -> None:
        rng = self.rng
        if not fields.get("sku"):
            self.number += 1
            fields["sku"] = f"CSV-{self.country}-{self.number:05d}"
        price = float(product.cost_price) * 1.6 + 2 if product is not None else rng.randrange(500, 9000) / 100
        self.listings.append(
            {
                "product_type": "PRODUCT",
                "quantity": rng.randrange(1, 40),
                "price": f"{price:.2f}",
                "fulfillment": fulfillment,
                "source": "csv",
                "created_at": f"20{rng.randrange(19, 24)}-0{rng.randrange(1, 10)}-1{rng.randrange(10)}T10:00:00Z",
                **fields,
            }
        )
        self.truths.append(
            Truth(
                self.country,
                self.marketplace_id,
                fields["sku"],
                kind,
                product.reference if product is not None else None,
                fulfillment,
                via,
            )
        )


def _gtin_type(ean: str) -> str:
    return "upc" if len(ean) == 12 else "ean"


def _fill(m: _Marketplace, picker: _Picker, unique_title: set[str], title_owners: dict[str, set[str]]) -> None:
    rng, country, language = m.rng, m.country, m.language

    def selected(p, *, title: bool = False, length: int | None = None) -> bool:
        return (
            bool(p.names.get(language))
            and _selected(p, country)
            and (not title or p.reference in unique_title)
            and (length is None or len(p.ean) == length)
        )

    # the main case: one product, two EANs (found by brand + title, or by the reference in the SKU)
    for k in range(COUNTS["other_ean"]):
        by_title = k % 3 != 2
        p = picker.pick(lambda p, t=by_title: selected(p, title=t))
        if by_title:
            m.add(
                "other_ean",
                p,
                via="title",
                item_name=_varied(p.names[language], rng),
                brand=p.brand,
                gtin=_foreign_ean(rng),
                gtin_type="ean",
            )
        else:
            sku = rng.choice(("{ref}-{c}", "OLD_{low}", "X-{ref}-2019")).format(
                ref=p.reference, low=p.reference.lower(), c=country
            )
            m.add(
                "other_ean",
                p,
                via="sku",
                sku=sku,
                item_name=SELLER_TITLES[country].format(brand=p.brand) + f" {k}",
                brand=p.brand,
                gtin=_foreign_ean(rng),
                gtin_type="ean",
            )
    for _ in range(COUNTS["same_gtin"]):
        p = picker.pick(lambda p: selected(p, length=13))
        m.add("same_gtin", p, item_name=p.names[language], brand=p.brand, gtin=p.ean, gtin_type="ean")
    for _ in range(COUNTS["upc_ean"]):  # the supplier's EAN-13 (0 + UPC) listed as UPC-12
        p = picker.pick(lambda p: selected(p, length=12))
        m.add("upc_ean", p, item_name=p.names[language], brand=p.brand, gtin=p.ean, gtin_type="upc")
    for k in range(COUNTS["sku_reference"]):
        p = picker.pick(selected)
        m.add(
            "sku_reference",
            p,
            sku=f"{p.reference}-{country}-{k}",
            item_name=SELLER_TITLES[country].format(brand=p.brand) + f" #{k}",
            brand=p.brand,
            asin=_asin(rng),
        )
    for _ in range(COUNTS["brand_title"]):
        p = picker.pick(lambda p: selected(p, title=True))
        m.add("brand_title", p, item_name=_varied(p.names[language], rng), brand=p.brand, asin=_asin(rng))
    for _ in range(COUNTS["same_asin"]):  # an offer on the ASIN of a same_gtin listing
        p = picker.pick(lambda p: selected(p, length=13))
        asin = _asin(rng)
        m.add("same_gtin", p, item_name=p.names[language], brand=p.brand, gtin=p.ean, gtin_type="ean", asin=asin)
        m.add("same_asin", p, item_name=p.names[language], brand=p.brand, asin=asin)
    for k in range(COUNTS["fba_duplicate"]):
        p = picker.pick(lambda p: selected(p, title=True))
        if k % 2:
            m.add(
                "fba_duplicate",
                p,
                "AFN",
                via="same_gtin",
                item_name=p.names[language],
                brand=p.brand,
                gtin=p.ean,
                gtin_type=_gtin_type(p.ean),
            )
        else:
            m.add(
                "fba_duplicate",
                p,
                "AFN",
                via="other_ean",
                item_name=_varied(p.names[language], rng),
                brand=p.brand,
                gtin=_foreign_ean(rng),
                gtin_type="ean",
            )
    for k in range(COUNTS["not_selected"]):
        p = picker.pick(lambda p: bool(p.names.get(language)) and _excluded(p, country) and p.reference in unique_title)
        gtin = (p.ean, _gtin_type(p.ean)) if k % 2 else (_foreign_ean(rng), "ean")
        m.add(
            "not_selected",
            p,
            via="same_gtin" if k % 2 else "other_ean",
            item_name=p.names[language],
            brand=p.brand,
            gtin=gtin[0],
            gtin_type=gtin[1],
        )
    for _ in range(COUNTS["near_miss"]):
        p = picker.pick(selected)
        m.add(
            "near_miss",
            None,
            item_name=_other_model(p.names[language], title_owners),
            brand=p.brand,
            gtin=_foreign_ean(rng),
            gtin_type="ean",
        )
    for k in range(COUNTS["unrelated"]):
        brand = rng.choice(UNRELATED_BRANDS)
        m.add(
            "unrelated",
            None,
            item_name=f"{rng.choice(UNRELATED_WORDS[country])} {brand} {rng.randrange(10, 999)} {k}",
            brand=brand,
            gtin=_foreign_ean(rng),
            gtin_type="ean",
        )


def _other_model(title: str, title_owners: dict[str, set[str]]) -> str:
    """``title`` with another model number that no catalog product has."""
    model = re.search(r" (\d+)(?=,|$)", title)
    if model is None:
        return title + " Mini"
    for step in range(1, 100):
        changed = title[: model.start(1)] + str(int(model.group(1)) + 5 * step) + title[model.end(1) :]
        if normalise_title(changed) not in title_owners:
            return changed
    return title + " Mini"


@lru_cache(maxsize=4)
def _generate(seed: int) -> tuple[list[tuple[str, str, list[dict[str, Any]]]], list[Truth]]:
    from sandbox import catalog

    products = [p for p in catalog.generate(CATALOG_COUNT, seed=seed).products if not p.defect and not p.duplicate_copy]
    title_owners: dict[str, set[str]] = {}
    keys = {p.reference: [normalise_title(n) for n in p.names.values() if n] for p in products}
    for reference, titles in keys.items():
        for title in titles:
            title_owners.setdefault(title, set()).add(reference)
    unique_title = {ref for ref, titles in keys.items() if all(len(title_owners[t]) == 1 for t in titles)}
    rng = random.Random(f"csv-era:{seed}")
    picker = _Picker(products, rng, set())
    truths: list[Truth] = []
    out = []
    for country in ("IT", "DE"):
        marketplace = _Marketplace(country, rng, truths)
        _fill(marketplace, picker, unique_title, title_owners)
        out.append((DEMO_SELLER, marketplace.marketplace_id, marketplace.listings))
    return out, truths


def csv_era_listings(seed: int) -> list[tuple[str, str, list[dict[str, Any]]]]:
    return _generate(seed)[0]


def csv_era_manifest(seed: int) -> list[Truth]:
    """The ground truth of ``csv_era_listings(seed)``, one entry per listing."""
    return list(_generate(seed)[1])


def manifest_json(seed: int) -> list[dict[str, Any]]:
    return [asdict(t) for t in csv_era_manifest(seed)]


def kind_counts(seed: int) -> Counter:
    return Counter((t.country, t.kind) for t in csv_era_manifest(seed))
