"""A real SQS-compatible server for the sandbox's ORDER_CHANGE notifications: moto in server mode.

    python -m sandbox.sqs --port 0 --state DIR [--queue NAME ...]

It listens on 127.0.0.1 (``--host`` for a container), writes its port to ``<state>/port`` and creates
the named queues (account ``123456789012``, region ``eu-west-1``: the queue of ``--queue mip-orders`` is
``arn:aws:sqs:eu-west-1:123456789012:mip-orders``). Queues live in memory: a restart empties them, as a
purged queue would. ``run_sqs`` starts it for tests and benchmarks.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ACCOUNT = "123456789012"
REGION = "eu-west-1"
log = logging.getLogger("sandbox.sqs")


def queue_arn(name: str, region: str = REGION) -> str:
    return f"arn:aws:sqs:{region}:{ACCOUNT}:{name}"


@dataclass(frozen=True)
class SqsServer:
    endpoint: str
    process: subprocess.Popen | None = None

    def queue_url(self, name: str) -> str:
        return f"{self.endpoint}/{ACCOUNT}/{name}"

    def client(self):
        import boto3

        return boto3.client(
            "sqs",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="sandbox",
            aws_secret_access_key="sandbox",
        )

    def create_queue(self, name: str) -> str:
        return self.client().create_queue(QueueName=name)["QueueUrl"]


def main(argv: list[str] | None = None) -> None:
    from moto.server import ThreadedMotoServer

    parser = argparse.ArgumentParser(prog="python -m sandbox.sqs", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8102, help="port (0 = any free port)")
    parser.add_argument("--state", type=Path, required=True, help="directory for the port file")
    parser.add_argument("--queue", action="append", default=[], help="queue to create at start (repeatable)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    port = server.get_host_and_port()[1]
    sqs = SqsServer(f"http://127.0.0.1:{port}")
    for name in args.queue:
        sqs.create_queue(name)
    args.state.mkdir(parents=True, exist_ok=True)
    (args.state / "port").write_text(str(port))
    print(f"SQS (moto) listening on http://{args.host}:{port}, queues {args.queue}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


@contextmanager
def run_sqs(state_dir: Path | str, queues: Sequence[str] = (), startup_timeout: float = 60.0) -> Iterator[SqsServer]:
    """Start ``python -m sandbox.sqs`` on an ephemeral port, wait until it answers, stop it on exit."""
    import httpx

    from sandbox.process import started_server

    args = [option for name in queues for option in ("--queue", name)]
    server = started_server(
        "sandbox.sqs",
        Path(state_dir),
        args,
        log_name="sqs.log",
        healthy=lambda url: httpx.get(url, timeout=5) is not None,
        startup_timeout=startup_timeout,
    )
    with server as (process, port):
        yield SqsServer(f"http://127.0.0.1:{port}", process)


if __name__ == "__main__":
    main()
