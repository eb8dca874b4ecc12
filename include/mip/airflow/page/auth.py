"""Airflow's authentication and authorization, enforced by the Marketplaces app itself.

On Airflow 3.3 a plugin's ``fastapi_apps`` are mounted on the api-server without any check, so every
route here resolves the user the way Airflow's own API does (``airflow.api_fastapi.core_api.security
.get_user``: an ``Authorization: Bearer`` JWT, else the UI's ``_token`` cookie) and asks the configured
auth manager for permissions: viewing needs access to the Plugins view, connecting or resetting an
account needs permission to edit its connection. Pages send anonymous users to Airflow's login; the
JSON API answers 401/403.

Form posts carry a CSRF token bound to the user (an HMAC with the app's key) and must come from the
same origin; the ``_token`` cookie is SameSite=Lax, this is the second lock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import HTTPException, Request

VIEW_RESOURCE = "Marketplaces"


async def current_user(request: Request) -> Any | None:
    """The Airflow user of the request, or None when it carries no valid token."""
    from airflow.api_fastapi.core_api.security import bearer_scheme, get_user

    credentials = await bearer_scheme(request)
    try:
        return await get_user(request, None, credentials)
    except HTTPException:
        return None


def uses_bearer(request: Request) -> bool:
    return request.headers.get("authorization", "").lower().startswith("bearer ")


def login_url(request: Request) -> str:
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager().get_url_login(next_url=str(request.url))


def user_name(user: Any) -> str:
    return str(user.get_name())


def can_view(user: Any) -> bool:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView

    return get_auth_manager().is_authorized_view(access_view=AccessView.PLUGINS, user=user)


def can_edit_connection(user: Any, conn_id: str, method: Literal["GET", "POST", "PUT", "DELETE"] = "PUT") -> bool:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import ConnectionDetails

    return get_auth_manager().is_authorized_connection(
        method=method, details=ConnectionDetails(conn_id=conn_id), user=user
    )


def readable_dag_ids(user: Any) -> set[str]:
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager().get_authorized_dag_ids(user=user, method="GET")


def csrf_token(key: bytes, user: Any) -> str:
    digest = hmac.new(key, f"csrf:{user_name(user)}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def check_form_origin(request: Request, key: bytes, user: Any, token: str | None) -> None:
    """Refuse a cookie-authenticated form post without this user's CSRF token or from another origin."""
    if uses_bearer(request):  # a header browsers never add on their own: no CSRF risk
        return
    origin = request.headers.get("origin")
    if origin:
        from airflow.configuration import conf

        own = {urlsplit(str(request.base_url)).netloc, urlsplit(conf.get("api", "base_url", fallback="")).netloc}
        if urlsplit(origin).netloc not in own:
            raise HTTPException(403, f"a form post from another origin ({origin}) was refused")
    if not token or not hmac.compare_digest(token, csrf_token(key, user)):
        raise HTTPException(403, "the form's CSRF token is missing or wrong; reload the Marketplaces page")
