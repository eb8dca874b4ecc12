"""Real receivers for alert tests: an SMTP server (aiosmtpd, with AUTH) and an HTTP webhook receiver, each on an
ephemeral port of 127.0.0.1 in a thread of the test process. A message is stored before the server answers, so
once a notifier returns, what it sent is here (no waiting)."""

from __future__ import annotations

import asyncio
import email
import html
import json
import re
import threading
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Mail:
    sender: str
    recipients: list[str]
    login: str | None  # the login the client authenticated with
    message: Message

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        parts = [p for p in self.message.walk() if p.get_content_type() == "text/html"]
        return "\n".join(p.get_payload(decode=True).decode(p.get_content_charset() or "utf-8") for p in parts)

    @property
    def text(self) -> str:
        """The body as a reader sees it (tags dropped, entities decoded)."""
        return html.unescape(re.sub(r"<[^>]+>", "", self.body))


class SmtpServer:
    """Accepts mail only from a client that authenticates with ``login``/``password``."""

    def __init__(self, login: str, password: str) -> None:
        self.login, self.password = login, password
        self.mails: list[Mail] = []
        self.refused_logins: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="smtp-receiver", daemon=True)

    def __enter__(self) -> SmtpServer:
        from aiosmtpd.smtp import SMTP

        self._thread.start()

        def protocol() -> SMTP:
            return SMTP(self, authenticator=self._authenticate, auth_require_tls=False, loop=self._loop)

        started = asyncio.run_coroutine_threadsafe(self._loop.create_server(protocol, "127.0.0.1", 0), self._loop)
        self._server = started.result(timeout=30)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: Any) -> None:
        async def stop() -> None:
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        login, password = auth_data.login.decode(), auth_data.password.decode()
        if (login, password) != (self.login, self.password):
            self.refused_logins.append(login)
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=login)

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's handler hook
        self.mails.append(
            Mail(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                session.auth_data,
                email.message_from_bytes(envelope.original_content),
            )
        )
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class Post:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class WebhookReceiver:
    """Records every POST; answers ``status`` (200 unless a test sets another)."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                receiver.posts.append(Post(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # keep the test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=30)
