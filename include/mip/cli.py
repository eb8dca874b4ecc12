"""The ``mip`` command line (outside Airflow; the database comes from ``MIP_DATABASE_URL``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mip.config import TopologyError, load_topology, topology_path


def _db_upgrade(args: argparse.Namespace) -> int:
    from mip.store.migrate import upgrade

    upgrade(args.url)
    print("mip schema is at the latest migration")
    return 0


def _channels_validate(args: argparse.Namespace) -> int:
    path = Path(args.path) if args.path else topology_path()
    try:
        topology = load_topology(path)
    except TopologyError as exc:
        print(f"{len(exc.problems)} problem(s) in the topology:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    from mip.store import registry

    conflicts = registry.conflicts(topology, registry.read_snapshot(path))
    if args.registry:
        from mip.store.db import connect

        with connect(args.url) as conn:
            conflicts = registry.conflicts(topology, registry.read(conn))
    if conflicts:
        print("the topology changes deployed channels:", file=sys.stderr)
        for message in conflicts:
            print(f"  {path}: {message}", file=sys.stderr)
        return 1
    mains = ", ".join(c.id for c in topology.main_channels)
    print(f"{path}: {len(topology.accounts)} account(s), {len(topology.channels)} channel(s), main: {mains}")
    return 0


def _channels_deploy(args: argparse.Namespace) -> int:
    from mip.store import registry
    from mip.store.db import connect

    path = Path(args.path) if args.path else topology_path()
    topology = load_topology(path)
    with connect(args.url) as conn:
        try:
            added = registry.deploy(conn, topology)
        except registry.RegistryConflict as exc:
            print(exc, file=sys.stderr)
            return 1
        registry.write_snapshot(conn, path)
    print(
        f"registered {', '.join(added) if added else 'no new channel'}; registry snapshot in "
        f"{registry.snapshot_path(path)}"
    )
    return 0


def _channels_reassign(args: argparse.Namespace) -> int:
    from mip.store import registry
    from mip.store.db import connect

    path = Path(args.topology) if args.topology else topology_path()
    topology = load_topology(path)
    with connect(args.url) as conn:
        try:
            changed = registry.reassign(conn, topology, args.channel, args.role, args.link, args.reason)
        except (ValueError, KeyError) as exc:
            print(f"refused: {exc}", file=sys.stderr)
            return 1
        registry.write_snapshot(conn, path)
    print(
        f"channel {changed.channel_id} is now {changed.role}"
        f"{' linked to ' + changed.linked_main if changed.linked_main else ''} (audited)"
    )
    return 0


def _credentials_reset(args: argparse.Namespace) -> int:
    # Needs Airflow's metadata database (the account's connection lives there): the Airflow glue does it.
    from mip.airflow.reset import reset_credentials

    path = Path(args.topology) if args.topology else topology_path()
    try:
        summary = reset_credentials(
            load_topology(path),
            args.account,
            code=args.code,
            refresh_token=args.refresh_token,
            seller_id=args.seller_id,
            previous_seller=args.previous_seller,
            database_url=args.url,
        )
    except (ValueError, KeyError, RuntimeError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(summary)
    return 0


def _notifications_subscribe(args: argparse.Namespace) -> int:
    # The account's SP-API connection lives in Airflow's metadata database: the Airflow glue reads it. Outside a
    # task the Task SDK reads only environment variables and external backends unless the process says it is a
    # server one (as the api-server and the scheduler do): this command is run where Airflow's database is.
    os.environ.setdefault("_AIRFLOW_PROCESS_CONTEXT", "server")
    from mip.airflow.subscribe import NotSubscribable, subscribe_account
    from mip.store.db import connect

    topology = load_topology(Path(args.topology) if args.topology else topology_path())
    try:
        with connect(args.url) as conn:
            print(subscribe_account(conn, topology, topology.account(args.account)))
    except NotSubscribable as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    return 0


TOPOLOGY_HELP = "topology file (default: $MIP_CHANNELS_FILE or include/channels.yaml)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mip", description="MIP: Amazon multi-channel integration")
    parser.add_argument("--url", help="database URL (default: $MIP_DATABASE_URL)")
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="the mip schema").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply the Alembic migrations").set_defaults(func=_db_upgrade)

    channels = commands.add_parser("channels", help="the channel topology").add_subparsers(
        dest="channels_command", required=True
    )
    validate = channels.add_parser("validate", help="check a topology file; exit 1 with the problems")
    validate.add_argument("path", nargs="?", help=TOPOLOGY_HELP)
    validate.add_argument("--registry", action="store_true", help="also compare with the registry in the database")
    validate.set_defaults(func=_channels_validate)

    deploy = channels.add_parser("deploy", help="record new channels' role and link in the registry")
    deploy.add_argument("path", nargs="?")
    deploy.set_defaults(func=_channels_deploy)

    reassign = channels.add_parser("reassign", help="deliberately change a deployed channel's role or link")
    reassign.add_argument("channel")
    reassign.add_argument("--role", required=True, choices=["main", "international"])
    reassign.add_argument("--link", help="the main channel an international channel links to")
    reassign.add_argument("--reason", required=True)
    reassign.add_argument("--topology", help=TOPOLOGY_HELP)
    reassign.set_defaults(func=_channels_reassign)

    credentials = commands.add_parser("credentials", help="seller account credentials").add_subparsers(
        dest="credentials_command", required=True
    )
    reset = credentials.add_parser(
        "reset", help="store a new authorization (consent code or refresh token), optionally a new Seller ID"
    )
    reset.add_argument("account", help="the account id of the topology")
    source = reset.add_mutually_exclusive_group(required=True)
    source.add_argument("--code", help="the spapi_oauth_code of Amazon's consent redirect (single use, 5 minutes)")
    source.add_argument("--refresh-token", help="a refresh token (Atzr|...) from a self-authorization")
    reset.add_argument("--seller-id", help="switch the account to this Seller ID (history is kept)")
    reset.add_argument(
        "--previous-seller",
        help="the authorization is that of this earlier Seller ID of the account: stored beside the current one so "
        "the repair imports the hours that seller owns (the account keeps its current Seller ID)",
    )
    reset.add_argument("--topology", help=TOPOLOGY_HELP)
    reset.set_defaults(func=_credentials_reset)

    notifications = commands.add_parser("notifications", help="Amazon's ORDER_CHANGE notifications").add_subparsers(
        dest="notifications_command", required=True
    )
    subscribe = notifications.add_parser(
        "subscribe", help="create the destination for the account's queue and its ORDER_CHANGE subscription"
    )
    subscribe.add_argument("account", help="the account id of the topology")
    subscribe.add_argument("--topology", help=TOPOLOGY_HELP)
    subscribe.set_defaults(func=_notifications_subscribe)
    return parser


def main(argv: list[str] | None = None) -> int:
    from mip.command_errors import report_user_errors

    args = build_parser().parse_args(argv)
    return report_user_errors("mip", lambda: args.func(args))


if __name__ == "__main__":
    sys.exit(main())
