"""Which SQS queue an account's order events may be read from (and subscribed to).

The queue URL comes from configuration (the topology's ``accounts[].order_events.queue_url``); the AWS
credentials of the ``aws`` connection are sent to its host. It is therefore accepted only as Amazon's
SQS URL (``https://sqs.<region>.amazonaws.com/<12-digit account>/<name>``) or, where the deployment
allows the sandbox (``[mip] allow_sandbox_endpoint``), as an http(s) URL on a loopback address or on a
named sandbox host with the same ``/<account>/<name>`` path (moto, sandbox/sqs.py).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

from mip.sandbox_urls import is_sandbox_url

AMAZON_QUEUE = re.compile(
    r"^https://sqs\.([a-z]{2}(?:-gov)?-[a-z]+-[0-9])\.amazonaws\.com/([0-9]{12})/([A-Za-z0-9_-]{1,80})$"
)
SANDBOX_PATH = re.compile(r"^/([0-9]{12})/([A-Za-z0-9_-]{1,80})$")
SANDBOX_REGION = "eu-west-1"


class QueueRefused(ValueError):
    """The configured queue URL is not one AWS credentials may be sent to."""


@dataclass(frozen=True)
class Queue:
    url: str
    region: str
    aws_account: str
    name: str
    sandbox: bool

    @property
    def arn(self) -> str:
        """The ARN Amazon's createDestination takes for this queue."""
        return f"arn:aws:sqs:{self.region}:{self.aws_account}:{self.name}"

    @property
    def endpoint(self) -> str | None:
        """The SQS endpoint override (the sandbox's server), None for Amazon's."""
        if not self.sandbox:
            return None
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"


def check_queue_url(url: str, *, allow_sandbox: bool, sandbox_hosts: Collection[str] = ()) -> Queue:
    text = (url or "").strip()
    found = AMAZON_QUEUE.match(text)
    if found:
        return Queue(text, found.group(1), found.group(2), found.group(3), sandbox=False)
    parts = urlsplit(text)
    path = SANDBOX_PATH.match(parts.path or "")
    if allow_sandbox and path and is_sandbox_url(parts, sandbox_hosts):
        return Queue(text, SANDBOX_REGION, path.group(1), path.group(2), sandbox=True)
    raise QueueRefused(
        f"queue URL {text!r} is refused: AWS credentials are only sent to Amazon SQS "
        "(https://sqs.<region>.amazonaws.com/<account>/<queue>)"
        + (" or to a sandbox queue on a loopback address" if allow_sandbox else "")
    )
