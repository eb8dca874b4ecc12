"""Time to import the dags/ folder in a fresh interpreter, for the demo topology and for 40 channels.

Prints the import time of the DAG files alone (what Airflow's dag-processor reports per file, with
Airflow already imported) and the interpreter's own Airflow import beside it. Targets: < 2 s for the
demo topology, < 5 s for 40 channels.

    .venv/bin/python bench/parse_time.py [--json FILE]

``--json FILE`` also writes the figures as JSON (``bench/run_all.py`` reads them).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EU = ["IT", "DE", "FR", "ES", "GB", "NL", "BE", "SE", "PL", "IE", "TR", "AE", "SA", "EG", "IN", "ZA"]
PROBE = r"""
import json, sys, time, importlib.util
from pathlib import Path
t0 = time.perf_counter()
import airflow.sdk  # noqa: F401
t1 = time.perf_counter()
count = 0
for path in sorted(Path(sys.argv[1]).glob("*.py")):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    count += sum(1 for v in vars(module).values() if type(v).__name__ == "DAG")
t2 = time.perf_counter()
print(json.dumps({"airflow_import_s": t1 - t0, "dags_import_s": t2 - t1, "dags": count}))
"""


def topology_with(channel_count: int) -> str:
    """10 accounts of 4 channels each (2 main + 2 international), all in region eu."""
    accounts, channels = [], []
    for a in range(channel_count // 4):
        accounts.append(f"  - {{id: acct{a}, seller_id: A{a:02d}BENCHSELLER, region: eu, connection_id: c{a}}}")
        countries = EU[(a * 4) % len(EU) :][:4] or EU[:4]
        if len(countries) < 4:
            countries += EU[: 4 - len(countries)]
        for i, country in enumerate(countries):
            role = "main" if i < 2 else "international"
            link = f", linked_main: a{a}c0" if role == "international" else ""
            channels.append(f"  - {{id: a{a}c{i}, account: acct{a}, country: {country}, role: {role}{link}}}")
    return (
        "settings:\n  max_main_channels: 20\naccounts:\n"
        + "\n".join(accounts)
        + "\nchannels:\n"
        + "\n".join(channels)
        + "\n"
    )


def measure(topology: Path) -> dict:
    env = {**os.environ, "MIP_CHANNELS_FILE": str(topology), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT / "dags")], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        forty = Path(tmp) / "channels.yaml"
        forty.write_text(topology_with(40))
        rows = [
            ("demo (4 channels)", measure(ROOT / "include" / "channels.yaml"), 2.0),
            ("40 channels", measure(forty), 5.0),
        ]
    for name, figures, target in rows:
        verdict = "ok" if figures["dags_import_s"] < target else "OVER TARGET"
        print(
            f"parse time {name}: {figures['dags_import_s']:.2f} s for {figures['dags']} DAGs "
            f"(target < {target:.0f} s, {verdict}); Airflow's own import: {figures['airflow_import_s']:.2f} s"
        )
    if args.json:
        keys = ("demo", "forty")
        args.json.write_text(
            json.dumps(
                {key: {**figures, "target_s": target} for key, (_, figures, target) in zip(keys, rows, strict=True)},
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
