"""The Marketplaces FastAPI app, mounted by the plugin on Airflow's api-server at ``/mip/marketplaces``.

Routes: ``GET /`` the page, ``GET /api/overview`` the same as JSON, ``POST /connect`` start a consent
(connect a channel, reset credentials, switch accounts), ``GET /callback`` Amazon's redirect back,
``POST /accounts/{id}/app-credentials`` the application's LWA credentials of a new account. Every
route but the icon checks Airflow's authentication itself (see ``auth``): pages send anonymous users
to Airflow's login, form posts and the JSON API answer 401/403. Blocking work (databases, Amazon)
runs in the thread pool.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mip.airflow.page import auth, flows, templates
from mip.airflow.page.flows import Notice, PageError
from mip.airflow.page.plugin import MOUNT

REGIONS = {"eu": "Europe, Middle East, India (eu)", "na": "North and South America (na)", "fe": "Far East (fe)"}
ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="#017cee" stroke-width="2">'
    '<path d="M3 9l1.5-5h15L21 9M3 9h18M3 9v11h18V9M9 20v-6h6v6"/></svg>'
)


def _ui_root() -> str:
    from airflow.api_fastapi.app import API_ROOT_PATH

    return API_ROOT_PATH or "/"


def _base(request: Request) -> str:
    """This app's path prefix as the browser sees it (Airflow's root path + the mount)."""
    return request.scope.get("root_path", "").rstrip("/") or MOUNT


def callback_url(request: Request) -> str:
    """The absolute redirect URI (also to be set as the application's OAuth Redirect URI on Amazon)."""
    from airflow.configuration import conf

    base_url = conf.get("api", "base_url", fallback="")
    if base_url:
        return base_url.rstrip("/") + MOUNT + "/callback"
    return str(request.url_for("callback"))


# --- authentication ---------------------------------------------------------------------------------------------
def _error_page(request: Request, user: Any | None, notice: Notice, status: int) -> HTMLResponse:
    html = templates.render(
        "error", base=_base(request), ui_root=_ui_root(), user=auth.user_name(user) if user else None, notice=notice
    )
    return HTMLResponse(html, status_code=status)


async def _page_user(request: Request) -> Any:
    """The user of a page request, or the Response (login redirect, 403) to return instead."""
    user = await auth.current_user(request)
    if user is None:
        return RedirectResponse(auth.login_url(request), status_code=302)
    if not await run_in_threadpool(auth.can_view, user):
        return _error_page(
            request, user, Notice("error", "Not allowed", "Your Airflow role may not open plugin views."), 403
        )
    return user


async def _user_or_401(request: Request, hint: str) -> Any:
    """Form posts and the JSON API: no login redirect (a post's data would not survive it), a 401/403."""
    user = await auth.current_user(request)
    if user is None:
        raise HTTPException(401, f"Not authenticated: {hint}")
    if not await run_in_threadpool(auth.can_view, user):
        raise HTTPException(403, "Your Airflow role may not open plugin views")
    return user


async def _form(request: Request, user: Any) -> dict[str, str]:
    form = {k: str(v) for k, v in (await request.form()).items()}
    auth.check_form_origin(request, flows.signing_key(), user, form.get("csrf"))
    return form


# --- rendering --------------------------------------------------------------------------------------------------
def _gather(user: Any):
    from mip.airflow.db import mip_db
    from mip.airflow.page import overview
    from mip.airflow.page.authorize import application_id

    topology, _, file = flows.load()
    with mip_db() as conn:
        accounts = overview.account_views(topology, conn)
        channels = overview.channel_views(topology, conn)
    overview.attach_dag_runs(channels, auth.readable_dag_ids(user), _ui_root())
    for view in accounts:
        view.can_edit = auth.can_edit_connection(user, view.account.connection_id)
        view.app_id = application_id(view.connection)
    return topology, file, accounts, channels


def _render_page(request: Request, user: Any, notice: Notice | None, status: int = 200) -> HTMLResponse:
    from mip.config import TopologyError
    from mip.marketplaces import MARKETPLACES

    try:
        topology, file, accounts, channels = _gather(user)
    except TopologyError as exc:
        return _error_page(
            request,
            user,
            Notice(
                "error",
                "The channel topology is invalid",
                "Fix it (`mip channels validate`) and reload:",
                problems=[str(p) for p in exc.problems],
                code="invalid_topology",
                problems_title="Problems:",
            ),
            500,
        )
    html = templates.render(
        "page",
        base=_base(request),
        ui_root=_ui_root(),
        user=auth.user_name(user),
        notice=notice,
        accounts=accounts,
        channels=channels,
        topology_file=file,
        csrf=auth.csrf_token(flows.signing_key(), user),
        can_connect=any(view.can_edit for view in accounts),
        sources=[v.account.id for v in accounts if v.connection.has_app_credentials],
        mains=topology.main_channels,
        regions=REGIONS,
        marketplaces=sorted(MARKETPLACES.values(), key=lambda m: (m.region, m.country)),
    )
    return HTMLResponse(html, status_code=status)


def _overview_json(user: Any) -> dict[str, Any]:
    _, _, accounts, channels = _gather(user)
    return {
        "accounts": [
            {
                "id": a.account.id,
                "seller_id": a.account.seller_id,
                "connection_id": a.connection.conn_id,
                "connection_seller_id": a.connection.seller_id,
                "authorized": a.connection.authorized,
                "authorization_age_days": a.age_days,
                "failure": a.failure,
                "warning": a.warning,
                "health": a.health and {**a.health, "checked_at": a.health["checked_at"].isoformat()},
            }
            for a in accounts
        ],
        "channels": [
            {
                "id": c.channel.id,
                "country": c.channel.country,
                "role": c.channel.role,
                "linked_main": c.channel.linked_main,
                "account": c.account.id,
                "deployed": c.registered is not None,
                "conflict": c.conflict,
                "activity": {
                    "listings_live": c.activity.listings_live,
                    "listings_rejected": c.activity.listings_rejected,
                    "orders_24h": c.activity.orders_24h,
                    "last_import": c.activity.last_import and c.activity.last_import.isoformat(),
                    "last_publish": c.activity.last_publish and c.activity.last_publish.isoformat(),
                    "missed_by_events": c.activity.missed_by_events,
                },
                "dags": [
                    {"dag_id": d.dag_id, "runs": [{"run_id": r.run_id, "state": r.state} for r in d.runs]}
                    for d in c.dags
                ],
            }
            for c in channels
        ],
    }


# --- routes -----------------------------------------------------------------------------------------------------
router = APIRouter()


@router.get("/icon.svg", include_in_schema=False)
async def icon() -> Response:
    return Response(ICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


@router.get("/", response_class=HTMLResponse, name="page")
async def page(request: Request, attempt: str | None = None) -> Response:
    user = await _page_user(request)
    if isinstance(user, Response):
        return user
    notice = await run_in_threadpool(flows.outcome_notice, user, attempt) if attempt else None
    return await run_in_threadpool(_render_page, request, user, notice)


@router.get("/api/overview")
async def api_overview(request: Request) -> JSONResponse:
    user = await _user_or_401(
        request, "send the Airflow UI's session cookie or an 'Authorization: Bearer <JWT>' header (POST /auth/token)"
    )
    return JSONResponse(await run_in_threadpool(_overview_json, user))


@router.post("/connect")
async def connect(request: Request) -> Response:
    user = await _user_or_401(request, "sign in to Airflow and reload Multi-Channel > Marketplaces")
    form = await _form(request, user)
    try:
        url = await run_in_threadpool(flows.start_consent, user, form, callback_url(request))
    except PageError as exc:
        return await run_in_threadpool(_render_page, request, user, exc.notice, exc.status)
    return RedirectResponse(url, status_code=303)


@router.post("/accounts/{account_id}/app-credentials")
async def app_credentials(request: Request, account_id: str) -> Response:
    user = await _user_or_401(request, "sign in to Airflow and reload Multi-Channel > Marketplaces")
    form = await _form(request, user)
    try:
        notice = await run_in_threadpool(flows.save_app_credentials, user, account_id, form)
    except PageError as exc:
        return await run_in_threadpool(_render_page, request, user, exc.notice, exc.status)
    return await run_in_threadpool(_render_page, request, user, notice)


@router.get("/callback", name="callback")
async def callback(request: Request) -> Response:
    user = await _page_user(request)  # anonymous: login first, the state stays valid meanwhile
    if isinstance(user, Response):
        return user
    params = {k: request.query_params.get(k, "") for k in ("state", "spapi_oauth_code", "selling_partner_id")}
    try:
        nonce = await run_in_threadpool(flows.finish_consent, user, params)
    except PageError as exc:
        return _error_page(request, user, exc.notice, exc.status)
    # Redirect so the code leaves the address bar and a reload cannot replay it.
    return RedirectResponse(f"{_base(request)}/?attempt={nonce}", status_code=303)


def create_app() -> FastAPI:
    from mip.airflow.page import log_redaction

    log_redaction.install()  # the callback's code and state must not reach the api-server's (access) log
    app = FastAPI(title="MIP Marketplaces", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(router)
    return app
