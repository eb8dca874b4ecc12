"""``python -m mip.catalog [DIR]``: ingest a supplier catalog drop outside Airflow (``MIP_DATABASE_URL``).

Prints the result as JSON; exit status 1 when the drop is refused.
"""

from __future__ import annotations

import argparse
import json
import sys

from mip.catalog.supplier_format import drop_files, supplier_dir
from mip.command_errors import report_user_errors


def main(argv: list[str] | None = None) -> int:
    from mip.catalog.ingest import IngestOptions

    parser = argparse.ArgumentParser(prog="python -m mip.catalog", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "directory",
        nargs="?",
        help="the drop folder, inside MIP_IMPORTS_DIR or MIP_SUPPLIER_DIR (default: MIP_SUPPLIER_DIR)",
    )
    parser.add_argument("--force", action="store_true", help="read the drop even if identical to the last one")
    parser.add_argument("--run-id", help="the run id recorded with the rejected rows")
    parser.add_argument("--max-rejected-fraction", type=float, default=IngestOptions.max_rejected_fraction)
    parser.add_argument("--max-removed-fraction", type=float, default=IngestOptions.max_removed_fraction)
    parser.add_argument(
        "--language", help="the language every product needs a name in (default: catalog.language of the topology)"
    )
    parser.add_argument("--url", help="the mip database (default: MIP_DATABASE_URL)")
    args = parser.parse_args(argv)
    return report_user_errors(parser.prog, lambda: _ingest(args))


def _ingest(args: argparse.Namespace) -> int:
    from mip.catalog.ingest import IngestOptions, ingest_directory
    from mip.config import load_topology
    from mip.store.db import connect

    options = IngestOptions(
        default_language=args.language or load_topology().catalog.language,
        force=args.force,
        max_rejected_fraction=args.max_rejected_fraction,
        max_removed_fraction=args.max_removed_fraction,
    )
    directory = supplier_dir(args.directory)  # a path outside the allowed folders: PathRefused, one line
    drop_files(directory)  # a missing file is reported before connecting
    with connect(args.url) as conn:
        result = ingest_directory(conn, directory, run_id=args.run_id, options=options)
    print(json.dumps(result.to_dict(), indent=1))
    return 1 if result.status == "refused" else 0


if __name__ == "__main__":
    sys.exit(main())
