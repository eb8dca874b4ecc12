"""The catalog language is a deployment setting, and a drop's encoding is detected per file.

A supplier writing only Italian names loads when ``catalog.language`` says ``it``; a cp1252 drop whose
byte pairs happen to be valid UTF-8 (``È”``, ``Ù…``, ``ß“``) loads whole with the right text.
"""

from __future__ import annotations

import pytest

from mip.catalog.supplier_format import CatalogSourceError
from mip.config import TopologyError, parse_topology
from tests.catalog.test_rules import loaded, product, read, write_drop

ITALIAN_HEADER = [
    *("reference", "ean", "brand", "category", "name_it", "images", "vat_class"),
    *("weight_kg", "length_cm", "width_cm", "height_cm"),
]
TOPOLOGY = """
accounts: [{id: a, seller_id: A1MIPTESTSELLER, region: eu, connection_id: c}]
channels: [{id: it, account: a, country: IT, role: main}]
"""


def italian(n: int, name: str | None = None) -> dict[str, str]:
    row = product(n)
    row["name_it"] = name or row["name_it"]
    return {column: row[column] for column in ITALIAN_HEADER}


def read_in(folder, language: str):
    from mip.catalog.drop import ReadOptions, read_drop
    from mip.catalog.supplier_format import drop_files

    spill = folder / "spill"
    spill.mkdir(exist_ok=True)
    return read_drop(*drop_files(folder), {}, spill, ReadOptions(default_language=language))


def test_the_catalog_language_is_a_topology_setting():
    assert parse_topology(TOPOLOGY, "t.yaml").catalog.language == "en"
    assert parse_topology(TOPOLOGY + "catalog: {language: it}\n", "t.yaml").catalog.language == "it"
    with pytest.raises(TopologyError, match=r"catalog.language: language 'ita' is not a catalog language key"):
        parse_topology(TOPOLOGY + "catalog: {language: ita}\n", "t.yaml")


def test_an_italian_only_drop_loads_when_the_catalog_language_is_italian(tmp_path):
    folder = write_drop(tmp_path, [italian(1), italian(2)], header=ITALIAN_HEADER)
    drop = read_in(folder, "it")
    assert drop.rejections == [] and drop.loaded == 2
    assert sorted(loaded(drop)["name_it"]) == ["Coltello 1", "Coltello 2"]
    with pytest.raises(CatalogSourceError, match="the header lacks column"):
        read_in(folder, "en")


# In cp1252 each of these is an accented capital followed by a typographic quote or an ellipsis, and valid UTF-8.
UTF8_LOOKALIKES = ["CAFFÈ” ESPRESSO", "TAVOLO PIÙ… GRANDE", "MAß“ 42 cm"]


def test_a_cp1252_drop_whose_byte_pairs_look_like_utf8_loads_whole(tmp_path):
    lines = [";".join(product(n + 1, name_it=name).values()).encode("cp1252") for n, name in enumerate(UTF8_LOOKALIKES)]
    lines.append(";".join(product(4, name_it="Tè verde", name_de="Kaffeemühle").values()).encode("cp1252"))
    assert all(name.encode("cp1252").decode("utf-8") for name in UTF8_LOOKALIKES)  # the trap
    drop = read(
        write_drop(
            tmp_path, lines, prices=[f"R{n};1.00;2.00" for n in range(1, 5)], stock=[f"R{n};1" for n in range(1, 5)]
        )
    )
    assert [r.message for r in drop.rejections] == []
    names = loaded(drop).set_index("reference")
    assert names["name_it"].to_dict() == {
        "R1": UTF8_LOOKALIKES[0],
        "R2": UTF8_LOOKALIKES[1],
        "R3": UTF8_LOOKALIKES[2],
        "R4": "Tè verde",
    }
    assert names.loc["R4", "name_de"] == "Kaffeemühle"
