"""Keep the consent callback's ``spapi_oauth_code`` and ``state`` out of the api-server's logs.

Amazon sends the seller back to ``/mip/marketplaces/callback?state=...&spapi_oauth_code=...``. Airflow
3.3's access log (``HttpAccessLogMiddleware``: the structlog event ``request finished`` with
``query=...``; uvicorn's own access log is off) redacts only query keys that look secret (``token``,
``password``, ...), so it would write both values; so would the login redirect of an anonymous callback,
whose ``next=`` carries the callback URL percent-encoded. ``install`` (called when the plugin's app is
created, i.e. in every api-server process) wraps the final renderer of structlog and of the stdlib
handlers' ``ProcessorFormatter`` with ``redact``, so every rendered line, tracebacks included, has those
values replaced by ``***``. ``state`` is redacted whatever the path: a ``state=running`` filter of the
REST API shows as ``state=***`` too.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# the key after a start, '?', '&', '=', a space or a quote, plain or percent-encoded (%3F, %26; %253F ... when
# encoded twice), then '=' plain or encoded; the value runs to the next separator, plain or encoded
_START = r"(?:^|(?<=[?&=\s\"'])|(?<=%3F)|(?<=%3f)|(?<=%26)|(?<=%253F)|(?<=%253f)|(?<=%2526))"
_KEY = r"(?:spapi_oauth_code|state)(?:=|%(?:25)*3[Dd])"
_VALUE = r"(?:[^&\s\"'%]|%(?!(?:25)*26)[0-9A-Fa-f]{2})+"
PATTERN = re.compile(f"({_START}{_KEY}){_VALUE}")
# a state MIP issued (mip.airflow.page.state), wherever it shows, e.g. in JSON
STATE = re.compile(r"\bv1\.[A-Za-z0-9_-]{32}\.\d+\.[A-Za-z0-9_-]{43}")


def redact(text: str) -> str:
    """``text`` with the values of ``spapi_oauth_code`` and ``state`` parameters, and any state MIP issued,
    replaced by ``***``."""
    return STATE.sub("***", PATTERN.sub(r"\1***", text))


class _Redacting:
    """A renderer whose output goes through ``redact`` (str for consoles and stdlib, bytes for JSON logs)."""

    def __init__(self, renderer: Any):
        self.renderer = renderer

    def __call__(self, logger: Any, method_name: str, event_dict: Any) -> Any:
        rendered = self.renderer(logger, method_name, event_dict)
        if isinstance(rendered, bytes):
            return redact(rendered.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
        return redact(rendered) if isinstance(rendered, str) else rendered


def _handlers() -> set[logging.Handler]:
    loggers = [
        logging.getLogger(),
        *(v for v in logging.root.manager.loggerDict.values() if isinstance(v, logging.Logger)),
    ]
    return {handler for logger in loggers for handler in logger.handlers}


def install() -> None:
    """Wrap the renderers of this process's logging (idempotent)."""
    import structlog

    # Bound loggers share this list object (even cached ones), so replacing its last item reaches them all.
    processors = structlog.get_config()["processors"]
    if isinstance(processors, list) and processors and not isinstance(processors[-1], _Redacting):
        processors[-1] = _Redacting(processors[-1])
    for handler in _handlers():
        formatter = handler.formatter
        if isinstance(formatter, structlog.stdlib.ProcessorFormatter) and formatter.processors:
            if not isinstance(formatter.processors[-1], _Redacting):
                formatter.processors = (*formatter.processors[:-1], _Redacting(formatter.processors[-1]))
        elif not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


class RedactingFilter(logging.Filter):
    """For plain stdlib handlers: the record's message, redacted, replaces its format and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
