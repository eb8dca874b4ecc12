"""Reading listings files: encodings (UTF-8, Latin-1/cp1252, BOM), separators, header and row problems
named by line and column."""

from __future__ import annotations

import pytest

from mip.migration.listings_file import ListingsFileError, parse
from mip.migration.normalise import gtin_key

REPORT_HEADER = [
    "item-name",
    "seller-sku",
    "price",
    "quantity",
    "asin1",
    "product-id-type",
    "product-id",
    "fulfillment-channel",
    "status",
]


def tsv(rows: list[list[str]], header: list[str] = REPORT_HEADER) -> str:
    return "\n".join("\t".join(r) for r in [header, *rows]) + "\n"


def test_a_latin1_file_with_accented_titles_parses():
    text = tsv(
        [
            [
                "Tè verde Caffè Aurora Plus 880, colore nero",
                "CSV-1",
                "9.90",
                "3",
                "",
                "4",
                "8087000037948",
                "DEFAULT",
                "Active",
            ],
            [
                "Kabellose Kopfhörer – Größe M",
                "CSV-2",
                "19.90",
                "1",
                "B0CABCDEFG",
                "1",
                "B0CABCDEFG",
                "AMAZON_EU",
                "Active",
            ],
        ]
    )
    parsed = parse(text.encode("cp1252"), "listings.txt")
    assert parsed.encoding == "cp1252" and parsed.delimiter == "\t" and not parsed.problems
    rows = parsed.frame.set_index("sku")
    assert rows.loc["CSV-1", "item_name"] == "Tè verde Caffè Aurora Plus 880, colore nero"
    assert rows.loc["CSV-2", "item_name"] == "Kabellose Kopfhörer – Größe M"  # en dash: cp1252's 0x96
    assert rows.loc["CSV-1", "gtin_key"] == "08087000037948" and rows.loc["CSV-1", "fulfillment"] == "MFN"
    assert rows.loc["CSV-2", "asin"] == "B0CABCDEFG" and rows.loc["CSV-2", "fulfillment"] == "AFN"
    assert rows.loc["CSV-2", "line"] == 3


def test_bytes_cp1252_leaves_undefined_are_read_as_latin1():
    data = tsv([["Caff\x81 Aurora", "CSV-1", "1", "1", "", "", "", "DEFAULT", "Active"]]).encode("latin-1")
    parsed = parse(data, "odd.txt")
    assert parsed.encoding == "latin-1" and parsed.frame.loc[0, "item_name"] == "Caff\x81 Aurora"


def test_a_comma_separated_utf8_file_with_bom_quotes_and_template_column_names():
    text = (
        "\ufeffitem_sku,title,brand_name,external_product_id,external_product_id_type,fulfillment_center_id\n"
        'OLD-1,"Padella, antiaderente ""Pro""",Lumera, 0 36000 29145 2 ,UPC,DEFAULT\n'
    )
    parsed = parse(text.encode("utf-8"), "template.csv")
    assert parsed.encoding == "utf-8-sig" and parsed.delimiter == "," and not parsed.problems
    row = parsed.frame.iloc[0]
    assert (row["sku"], row["item_name"], row["brand"]) == ("OLD-1", 'Padella, antiaderente "Pro"', "Lumera")
    assert row["gtin"] == "036000291452" and row["gtin_key"] == gtin_key("0036000291452") == "00036000291452"


def test_a_file_mixing_encodings_names_the_line_and_column():
    good = "Tè verde".encode()  # UTF-8 on line 2
    bad = "Caffè".encode("latin-1")  # Latin-1 on line 3
    data = (
        ("\t".join(REPORT_HEADER) + "\n").encode()
        + good
        + b"\tCSV-1\t1\t1\t\t\t\tDEFAULT\tActive\n"
        + bad
        + b"\tCSV-2\t1\t1\t\t\t\tDEFAULT\tActive\n"
    )
    with pytest.raises(ListingsFileError) as error:
        parse(data, "mixed.txt")
    assert "mixed.txt: line 3, column 5 (field item-name): byte 0xE8 is not valid UTF-8" in str(error.value)
    assert "but line 2, column 2 (field item-name) is UTF-8 text: the file mixes encodings" in str(error.value)


# An accented capital followed by a typographic quote or an ellipsis: in cp1252 each pair is also valid UTF-8.
UTF8_LOOKALIKES = ["CAFFÈ” ESPRESSO", "TAVOLO PIÙ… GRANDE", "MAß“ 42 cm"]


@pytest.mark.parametrize("lookalike", UTF8_LOOKALIKES)
def test_a_cp1252_file_whose_byte_pairs_look_like_utf8_is_read_as_cp1252(lookalike):
    assert lookalike.encode("cp1252").decode("utf-8")  # the trap: this pair is valid UTF-8
    rows = [
        [lookalike, "CSV-1", "1", "1", "", "", "", "DEFAULT", "Active"],  # before any byte that breaks UTF-8
        ["Tè verde Caffè", "CSV-2", "1", "1", "", "", "", "DEFAULT", "Active"],
    ]
    parsed = parse(tsv(rows).encode("cp1252"), "listings.txt")
    assert parsed.encoding == "cp1252"
    assert parsed.frame.set_index("sku")["item_name"].to_dict() == {"CSV-1": lookalike, "CSV-2": "Tè verde Caffè"}


def test_a_missing_required_column_names_line_1_and_the_column():
    header = [h for h in REPORT_HEADER if h != "fulfillment-channel"]
    with pytest.raises(ListingsFileError, match=r"listings\.txt: line 1: no 'fulfillment-channel' column"):
        parse(tsv([["A", "CSV-1", "1", "1", "", "", "", "Active"]], header).encode(), "listings.txt")


def test_a_column_named_twice_is_refused():
    with pytest.raises(ListingsFileError, match=r"line 1, columns 1 \('sku'\) and 2 \('seller-sku'\) both name"):
        parse(b"sku\tseller-sku\tfulfillment-channel\titem-name\nA\tA\tDEFAULT\tx\n", "twice.txt")


def test_a_row_with_missing_fields_is_a_row_problem_with_line_and_column():
    text = tsv([["A", "CSV-1", "1", "1", "", "", "", "DEFAULT", "Active"], ["B", "CSV-2", "1", "1", "", ""]])
    parsed = parse(text.encode(), "short.txt")
    assert list(parsed.frame["sku"]) == ["CSV-1"]
    [problem] = parsed.problems
    assert (problem.line, problem.column, problem.rule, problem.sku) == (3, "product-id", "column_count", "CSV-2")
    assert "6 fields where the header has 9" in problem.message


def test_an_unclosed_quote_names_the_line():
    text = 'seller-sku,item-name,fulfillment-channel\nA,"open,DEFAULT\nB,x,DEFAULT\n'
    with pytest.raises(ListingsFileError, match=r"quoted\.csv: line \d+: .*quote"):
        parse(text.encode(), "quoted.csv")


def test_empty_and_headerless_files_are_refused():
    with pytest.raises(ListingsFileError, match=r"empty\.txt: line 1: the file is empty"):
        parse(b"\n\n", "empty.txt")
    with pytest.raises(ListingsFileError, match="line 1: no tab, comma or semicolon"):
        parse(b"just some text\n", "words.txt")
    with pytest.raises(ListingsFileError, match="line 1, column 3: a NUL byte"):
        parse(b"ab\x00cd", "binary.bin")
