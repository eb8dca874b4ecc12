"""Command line: ``python -m sandbox.spapi --port PORT --state DIR [--time-scale X] [--seed N] ...``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from sandbox.spapi.faults import Faults
from sandbox.spapi.state import Settings


def parse_args(argv: list[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.spapi",
        description="A stateful stand-in for the Amazon Selling Partner API on 127.0.0.1 (see the README).",
    )
    parser.add_argument("--port", type=int, default=8100, help="port (0 = any free port)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 inside a container)"
    )
    parser.add_argument("--state", type=Path, required=True, help="state directory (kept across restarts)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="Amazon's clock speed: rates x X, Amazon durations / X (default 1 = real time)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of a fresh state (ids, credentials, orders)")
    parser.add_argument(
        "--no-demo", dest="demo", action="store_false", help="start a fresh state without the demo accounts"
    )
    parser.add_argument(
        "--orders-per-hour",
        type=float,
        default=0.0,
        help="background orders per Amazon hour for each marketplace with buyable listings",
    )
    parser.add_argument(
        "--bil-delay-minutes",
        type=float,
        default=10.0,
        help="Build International Listings copy delay in Amazon minutes (default 10)",
    )
    parser.add_argument(
        "--validate-responses",
        action="store_true",
        help="check every SP-API response against the model; see GET /_sandbox/contract-violations",
    )
    parser.add_argument(
        "--ship-on-confirmation",
        action="store_true",
        help="MFN orders stay Unshipped until the seller confirms the shipment (confirmShipment)",
    )
    faults = parser.add_argument_group("faults (also switchable at runtime: POST /_sandbox/faults)")
    faults.add_argument(
        "--throttle-storm",
        type=float,
        metavar="FRACTION",
        nargs="?",
        const=1.0,
        default=0.0,
        help="answer this fraction of SP-API calls 429 (no value = all)",
    )
    faults.add_argument("--error-5xx-rate", type=float, default=0.0, help="answer this fraction of calls 500/503")
    faults.add_argument("--slow-feeds", type=float, default=1.0, help="multiply feed processing times")
    faults.add_argument("--fatal-feeds", type=int, default=0, help="the next N feeds end FATAL")
    faults.add_argument(
        "--partial-acceptance", type=float, default=0.0, help="reject this fraction of feed messages with an issue"
    )
    faults.add_argument("--truncated-reports", action="store_true", help="cut report documents mid-row")
    faults.add_argument("--malformed-reports", action="store_true", help="add a broken row to report documents")
    parser.add_argument("--log-level", default="warning", help="uvicorn log level (default warning)")
    parser.add_argument(
        "--sqs-endpoint", default=None, help="SQS server for ORDER_CHANGE notifications (python -m sandbox.sqs)"
    )
    args = parser.parse_args(argv)
    settings = Settings(
        state_dir=args.state,
        port=args.port,
        host=args.host,
        time_scale=args.time_scale,
        seed=args.seed,
        demo=args.demo,
        orders_per_hour=args.orders_per_hour,
        bil_delay_minutes=args.bil_delay_minutes,
        validate_responses=args.validate_responses,
        ship_on_confirmation=args.ship_on_confirmation,
        faults=Faults(
            throttle_fraction=args.throttle_storm,
            error_5xx_rate=args.error_5xx_rate,
            slow_feeds=args.slow_feeds,
            fatal_feeds=args.fatal_feeds,
            partial_acceptance=args.partial_acceptance,
            truncated_reports=args.truncated_reports,
            malformed_reports=args.malformed_reports,
        ),
        log_level=args.log_level,
        sqs_endpoint=args.sqs_endpoint,
    )
    return settings


def main(argv: list[str] | None = None) -> None:
    import socket

    import uvicorn

    from sandbox.spapi.app import create_app

    settings = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    settings.port = sock.getsockname()[1]
    app = create_app(settings)
    (settings.state_dir / "port").write_text(str(settings.port))
    print(
        f"sandbox SP-API listening on http://{settings.host}:{settings.port} (state {settings.state_dir}, "
        f"time scale {settings.time_scale:g})",
        flush=True,
    )
    config = uvicorn.Config(
        app,
        log_level=settings.log_level,
        access_log=False,
        loop="auto",
        http="auto",
        lifespan="on",
    )
    uvicorn.Server(config).run(sockets=[sock])
