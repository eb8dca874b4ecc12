"""Reading migration plans from the command line (``MIP_DATABASE_URL``).

python -m mip.migration [--url URL] list [--channel it]   # the latest plans
python -m mip.migration [--url URL] show PLAN_ID [--all]  # summary, rows, audit (--all: excluded rows too)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from mip.command_errors import report_user_errors
from mip.store.db import connect

SHOWN_ROWS = 200


def _list(conn, channel: str | None) -> None:
    rows = conn.execute(
        "SELECT plan_id, channel_id, status, planned, listings_total, created_at, created_by, approved_by "
        "FROM mip.migration_plan_headers WHERE %s::text IS NULL OR channel_id = %s ORDER BY created_at DESC LIMIT 20",
        (channel, channel),
    ).fetchall()
    if not rows:
        print("no migration plans")
    for plan_id, channel_id, status, planned, total, created, by, approved in rows:
        print(
            f"{plan_id:<14} {channel_id:<6} {status:<10} {planned:>6} of {total:>7} listings  "
            f"made {created:%Y-%m-%d %H:%M} by {by}" + (f", approved by {approved}" if approved else "")
        )


def _show(conn, plan_id: str, everything: bool) -> int:
    found = conn.execute(
        "SELECT summary_text, status FROM mip.migration_plan_headers WHERE plan_id = %s", (plan_id,)
    ).fetchone()
    if found is None:
        print(f"no migration plan {plan_id!r} (python -m mip.migration list)", file=sys.stderr)
        return 1
    print(found[0])
    print(f"\nstatus: {found[1]}\n")
    rows = conn.execute(
        "SELECT sku, reference, reason, status, coalesce(excluded_because, waiting_because), evidence, issues "
        "FROM mip.migration_plans "
        "WHERE plan_id = %s AND (%s OR status <> 'excluded') ORDER BY status, reason, sku LIMIT %s",
        (plan_id, everything, SHOWN_ROWS),
    ).fetchall()
    for sku, reference, reason, status, because, evidence, issues in rows:
        matched = ",".join(evidence.get("matched_on", []))
        extra = f" ({because})" if because else ""
        problems = f" issues {json.dumps(issues)[:120]}" if issues else ""
        print(f"{status:<9}{extra:<16} {sku:<28} -> {reference or '?':<12} {reason:<14} on {matched}{problems}")
    print("\naudit:")
    for at, action, actor, message in conn.execute(
        "SELECT at, action, actor, message FROM mip.migration_audit WHERE plan_id = %s ORDER BY at, id", (plan_id,)
    ):
        print(f"  {at:%Y-%m-%d %H:%M:%S} {action:<9} {actor}: {message}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mip.migration", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="the latest plans")
    listing.add_argument("--channel")
    show = commands.add_parser("show", help="a plan's summary, rows and audit")
    show.add_argument("plan_id")
    show.add_argument("--all", action="store_true", help="also the matched listings that are never deleted")
    parser.add_argument("--url", help="the mip database (default: MIP_DATABASE_URL)")
    args = parser.parse_args(argv)
    return report_user_errors(parser.prog, lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    with connect(args.url) as conn:
        if args.command == "list":
            _list(conn, args.channel)
            return 0
        return _show(conn, args.plan_id, args.all)


if __name__ == "__main__":
    sys.exit(main())
