"""Command line: ``python -m sandbox.supplier --port PORT --state DIR [--time-scale X] [--api-key KEY] ...``.

Without ``--api-key`` the key is read from ``<state>/api_key`` (created, 0600, on first start).
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import socket
from pathlib import Path


def api_key_of(state_dir: Path, given: str | None) -> str:
    if given:
        return given
    path = state_dir / "api_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    from sandbox.supplier.app import create_app

    parser = argparse.ArgumentParser(prog="python -m sandbox.supplier", description="BigBuy-like supplier stand-in")
    parser.add_argument("--port", type=int, default=8110, help="port (0 = any free port)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--state", type=Path, required=True, help="state directory (kept across restarts)")
    parser.add_argument("--time-scale", type=float, default=1.0, help="supplier hours pass X times faster")
    parser.add_argument("--handling-hours", type=float, default=2.0, help="supplier hours until tracking appears")
    parser.add_argument("--balance", default="100000", help="prepaid balance (EUR) of a fresh state")
    parser.add_argument("--api-key", default=os.environ.get("MIP_SUPPLIER_API_KEY"))
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    args.state.mkdir(parents=True, exist_ok=True)
    app = create_app(
        args.state,
        api_key=api_key_of(args.state, args.api_key),
        time_scale=args.time_scale,
        handling_hours=args.handling_hours,
        balance=args.balance,
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    port = sock.getsockname()[1]
    (args.state / "port").write_text(str(port))
    print(f"supplier stand-in listening on http://{args.host}:{port}/rest (state {args.state})", flush=True)
    config = uvicorn.Config(app, log_level=args.log_level, access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
