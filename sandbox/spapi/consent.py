"""The seller's consent page, ``/apps/authorize/consent`` (Seller Central's OAuth authorization).

GET shows the page (sign-in form, country, Confirm/Cancel); POST with ``action=confirm`` signs in
(email/password, or the browser's remembered session) and redirects to the app's redirect URI
with ``spapi_oauth_code``, ``state`` and ``selling_partner_id``. Like Seller Central it remembers
the signed-in seller in a cookie, so a second authorization in the same browser silently uses
the same account (hence Amazon's advice to use a private window to connect another account).

Errors are shown on the page with Amazon's codes: MD1000 (unknown application or missing
``version=beta`` for a draft app), MD9100 (no redirect URI), MD5101 (redirect URI not allowed).
"""

from __future__ import annotations

import html
from urllib.parse import urlencode, urlparse

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from sandbox.spapi import marketplaces
from sandbox.spapi.auth import Tokens
from sandbox.spapi.state import State

COOKIE = "sbx-session"
_FIELDS = ("application_id", "state", "version", "redirect_uri")


def redirect_allowed(uri: str) -> bool:
    """The sandbox app allows any http://127.0.0.1:<port>/... or http://localhost:<port>/... URI."""
    parsed = urlparse(uri)
    return parsed.scheme == "http" and parsed.hostname in ("127.0.0.1", "localhost")


def _problem(state: State, params: dict[str, str]) -> tuple[str, str] | None:
    app = state.app
    if params.get("application_id") != app.application_id:
        return "MD1000", f"The application ID {params.get('application_id')!r} is not valid."
    if params.get("version") != "beta":
        return "MD1000", "This application is in draft state: the authorization URI must include version=beta."
    if not params.get("redirect_uri"):
        return "MD9100", "No redirect URI: the authorization URI must include redirect_uri."
    if not redirect_allowed(params["redirect_uri"]):
        return "MD5101", f"The redirect URI {params['redirect_uri']!r} is not one of the application's redirect URIs."
    if not params.get("state"):
        return "MD5110", "The authorization URI must include a state parameter."
    return None


def _session_account(request: Request, state: State):
    raw = request.cookies.get(COOKIE, "")
    seller_id, _, signature = raw.partition(".")
    if seller_id and state.verify(f"session:{seller_id}", signature):
        return state.db.one("SELECT * FROM accounts WHERE seller_id = ?", (seller_id,))
    return None


def _page(state: State, params: dict[str, str], account, error: str | None = None, status: int = 200) -> HTMLResponse:
    e = html.escape
    hidden = "".join(f'<input type="hidden" name="{k}" value="{e(params.get(k, ""))}">' for k in _FIELDS)
    if account is not None:
        who = (
            f'<p id="signed-in">Signed in as <b>{e(account["login_email"])}</b> ({e(account["store_name"])}, '
            f'Seller ID {e(account["seller_id"])}). <button name="action" value="signout" id="signout">'
            "Not you? Sign out</button></p>"
        )
        region = account["region"]
    else:
        who = (
            '<label>Email <input type="email" name="email" id="ap_email" autocomplete="username"></label>'
            '<label>Password <input type="password" name="password" id="ap_password" '
            'autocomplete="current-password"></label>'
        )
        region = None
    options = "".join(
        f'<option value="{m.country}">{e(m.name)} ({m.country})</option>'
        for m in sorted(marketplaces.MARKETPLACES.values(), key=lambda m: (m.region, m.country))
        if region is None or m.region == region
    )
    problem = f'<p class="error" id="error">{e(error)}</p>' if error else ""
    body = f"""<!doctype html><html><head><meta charset="utf-8">
<title>Amazon Seller Central (sandbox) - Authorize</title>
<style>body{{font-family:sans-serif;max-width:34em;margin:3em auto}}label{{display:block;margin:.6em 0}}
.error{{color:#b00}} button{{margin-right:.6em}}</style></head><body>
<h1>Authorize {e(state.app.name)}</h1>
<p>The application <b>{e(state.app.name)}</b> ({e(state.app.application_id)}) asks for access to your selling
account through the Selling Partner API.</p>{problem}
<form method="post" action="/apps/authorize/consent">{hidden}{who}
<label>Country <select name="country" id="country">{options}</select></label>
<button type="submit" name="action" value="confirm" id="confirm">Confirm</button>
<button type="submit" name="action" value="cancel" id="cancel">Cancel</button>
</form></body></html>"""
    return HTMLResponse(body, status_code=status)


def _error_page(code: str, message: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>Error {code}</title></head><body>"
        f"<h1>We're sorry</h1><p id='error'>Error {code}: {html.escape(message)}</p></body></html>",
        status_code=400,
    )


async def consent_page(request: Request) -> Response:
    state: State = request.app.state.sandbox
    tokens: Tokens = request.app.state.tokens
    if request.method == "GET":
        params = {k: request.query_params.get(k, "") for k in _FIELDS}
        form = None
    else:
        form = await request.form()
        params = {k: str(form.get(k, "")) for k in _FIELDS}
    problem = _problem(state, params)
    if problem:
        return _error_page(*problem)
    account = _session_account(request, state)
    if form is None:
        return _page(state, params, account)
    action = form.get("action", "confirm")
    if action == "signout":
        response = _page(state, params, None)
        response.delete_cookie(COOKIE)
        return response
    if action == "cancel":
        return HTMLResponse("<!doctype html><p id='cancelled'>You did not authorize the application.</p>")
    email, password = str(form.get("email", "")).strip(), str(form.get("password", ""))
    if email or password:
        account = state.db.one("SELECT * FROM accounts WHERE login_email = ? COLLATE NOCASE", (email,))
        if account is None or account["login_password"] != password:
            return _page(state, params, None, "Your email or password was incorrect.", status=401)
    if account is None:
        return _page(state, params, None, "Sign in with the seller account's email and password.", status=401)
    country = str(form.get("country", "")).upper()
    market = marketplaces.MARKETPLACES.get(country)
    if market is None or market.region != account["region"]:
        return _page(
            state, params, account, f"Choose a country of your account's region ({account['region']}).", status=400
        )
    code = tokens.new_code(account["seller_id"], country, params["redirect_uri"])
    query = urlencode({"spapi_oauth_code": code, "state": params["state"], "selling_partner_id": account["seller_id"]})
    separator = "&" if urlparse(params["redirect_uri"]).query else "?"
    response = RedirectResponse(params["redirect_uri"] + separator + query, status_code=302)
    response.set_cookie(
        COOKIE, f"{account['seller_id']}.{state.sign('session:' + account['seller_id'])}", httponly=True, samesite="lax"
    )
    return response
