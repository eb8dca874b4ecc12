"""Amazon's usage plans (rate per second, burst) per SP-API operation.

Shipped as ``usage_plans.json``, extracted from the operation descriptions of Amazon's models
(``extract``); a test keeps the two in step with ``../shared/amazon-models``. Regenerate with
``python -m mip.amazon.usage_plans ../shared/amazon-models``.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SHIPPED = Path(__file__).with_name("usage_plans.json")
MODEL_FILES = (
    "ordersV0.json",
    "listingsItems_2021-08-01.json",
    "feeds_2021-06-30.json",
    "reports_2021-06-30.json",
    "sellers.json",
    "tokens_2021-03-01.json",
    "notifications.json",
)
_PLAN_ROW = re.compile(r"\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|")


@dataclass(frozen=True)
class UsagePlan:
    rate: float  # requests per second, restored continuously
    burst: int  # bucket size


def extract(models_dir: Path) -> dict[str, dict]:
    plans: dict[str, dict] = {}
    for name in MODEL_FILES:
        model = json.loads((models_dir / name).read_text())
        for operations in model["paths"].values():
            for method, operation in operations.items():
                if method == "parameters" or not isinstance(operation, dict):
                    continue
                found = _PLAN_ROW.search(operation.get("description", ""))
                if found:
                    plans[operation["operationId"]] = {"rate": float(found[1]), "burst": int(found[2])}
    return dict(sorted(plans.items()))


@cache
def usage_plans() -> dict[str, UsagePlan]:
    return {op: UsagePlan(**plan) for op, plan in json.loads(SHIPPED.read_text()).items()}


def usage_plan(operation: str) -> UsagePlan:
    try:
        return usage_plans()[operation]
    except KeyError:
        raise KeyError(f"no usage plan known for SP-API operation {operation!r}") from None


if __name__ == "__main__":
    SHIPPED.write_text(json.dumps(extract(Path(sys.argv[1])), indent=1) + "\n")
    print(f"wrote {SHIPPED}")
