"""The SKU scheme of MIP-managed listings: ``MIP-<supplier reference>``.

One supplier product is one SKU on every main channel of the account (Amazon keeps a listing per
marketplace under the same SKU). The fixed ``MIP-`` prefix makes MIP's listings recognisable to
everything else: the CSV migration never plans a MIP SKU for deletion, and publishing only ever
deletes SKUs that carry the prefix. Amazon allows at most 40 characters; references that would make
a longer SKU, or that hold characters outside ``A-Z a-z 0-9 . _ -``, are rejected by the
catalog_offer gate (rule ``expect_column_values_to_match_regex(sku)``).
"""

from __future__ import annotations

import re

SKU_PREFIX = "MIP-"
SKU_MAX_LENGTH = 40
SKU_REGEX = rf"^{SKU_PREFIX}[A-Za-z0-9._-]{{1,{SKU_MAX_LENGTH - len(SKU_PREFIX)}}}$"
SKU_PATTERN = re.compile(SKU_REGEX)
# For SQL: listings whose SKU starts with the prefix (LIKE pattern, "_" and "-" need no escape here).
SKU_LIKE = SKU_PREFIX + "%"


def sku_for(reference: str) -> str:
    return SKU_PREFIX + reference


def is_mip_sku(sku: str) -> bool:
    return sku.startswith(SKU_PREFIX)


def reference_of(sku: str) -> str:
    if not is_mip_sku(sku):
        raise ValueError(f"SKU {sku!r} is not managed by MIP (no {SKU_PREFIX!r} prefix)")
    return sku[len(SKU_PREFIX) :]
