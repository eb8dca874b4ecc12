"""What ``plugins/mip_marketplaces.py`` registers, kept light on purpose.

Airflow imports every plugin in every task process (for macros), so this module imports nothing
heavy: the FastAPI app is built on the first request the api-server routes to it (``LazyApp``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

MOUNT = "/mip/marketplaces"
CATEGORY = "Multi-Channel"


class LazyApp:
    """An ASGI app that builds the Marketplaces FastAPI app (``app.create_app``) when first called."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if self._app is None:
            from mip.airflow.page.app import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


def fastapi_apps() -> list[dict[str, Any]]:
    from mip.airflow.page import log_redaction

    # Now, not with the app: an api-server process may log a login redirect carrying a consent callback's
    # URL before any request reaches the app (log_redaction explains).
    log_redaction.install()
    return [{"app": LazyApp(), "url_prefix": MOUNT, "name": "MIP Marketplaces"}]


def external_views(api_base_url: str) -> list[dict[str, Any]]:
    """Plugins > Multi-Channel > Marketplaces | Connect a channel, opening the page in a new tab.

    Not embedded (no ``url_route``): Amazon's consent page refuses to be framed and the UI's plugin
    iframe is sandboxed without top navigation, so an embedded page could not reach Amazon and back.
    Links are used as they are, hence the path of ``[api] base_url`` in front.
    """
    page = urlsplit(api_base_url).path.rstrip("/") + MOUNT
    common = {"icon": f"{page}/icon.svg", "category": CATEGORY, "destination": "nav"}
    return [
        {"name": "Marketplaces", "href": f"{page}/", **common},
        {"name": "Connect a channel", "href": f"{page}/#connect-main", **common},
    ]
