"""The page's HTML (Jinja2, autoescaped). Kept in Python so it ships with the package as code."""

from __future__ import annotations

from functools import cache

import jinja2
from markupsafe import Markup

_STYLE = """
:root{--blue:#017cee;--ink:#1f2933;--muted:#616e7c;--line:#e4e7eb;--bg:#f5f7fa;--ok:#1b873f;--warn:#b7791f;
--bad:#c53030}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--ink);background:var(--bg)}
header{display:flex;align-items:center;gap:1rem;padding:.7rem 1.5rem;background:#0c2340;color:#fff}
header .crumb{font-size:1.05rem}header .crumb b{font-weight:600}header .crumb span{opacity:.65;margin:0 .35rem}
header .right{margin-left:auto;display:flex;gap:1rem;align-items:center;opacity:.9}header a{color:#fff}
main{max-width:1280px;margin:0 auto;padding:1.2rem 1.5rem 3rem}
h2{font-size:1.05rem;margin:1.6rem 0 .6rem}h3{font-size:1rem;margin:0 0 .5rem}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:1rem 1.1rem}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid var(--line);border-radius:8px;
overflow:hidden}
th,td{text-align:left;padding:.55rem .7rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#f0f4f8;font-weight:600;font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
tr:last-child td{border-bottom:0}code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em}
pre{background:#0c2340;color:#e6f0ff;padding:.8rem 1rem;border-radius:6px;overflow:auto}
.muted{color:var(--muted)}.small{font-size:.82rem}
.pill{display:inline-block;padding:.05rem .5rem;border-radius:999px;font-size:.78rem;font-weight:600;
background:#e4e7eb;color:var(--ink);white-space:nowrap}
.pill.ok,.pill.success{background:#e3f9e5;color:var(--ok)}.pill.warning{background:#fff3c4;color:var(--warn)}.pill.failed,.pill.bad{background:#ffe3e3;color:var(--bad)}.pill.main{background:#dceefb;color:#0b69a3}
.pill.international{background:#eae2f8;color:#5b3a9a}
.dot{display:inline-block;width:.7rem;height:.7rem;border-radius:50%;background:#cbd2d9;margin-right:.15rem;
vertical-align:middle}.dot.success{background:var(--ok)}.dot.failed{background:var(--bad)}
.dot.running{background:var(--blue)}.dot.queued{background:#fff;border:2px solid #9aa5b1}
.pill.running{background:#dceefb;color:#0b69a3}.pill.queued{background:#f0f4f8;color:var(--muted)}
.activity{white-space:nowrap}.activity b{font-weight:600}
.dag{white-space:nowrap}.dag a.name{margin-right:.35rem}
.notice{border-radius:8px;padding:.9rem 1.1rem;margin:.4rem 0 1rem;border:1px solid}
.notice.ok{background:#e3f9e5;border-color:#a3d9a5}.notice.error{background:#fff5f5;border-color:#f5b5b5}
.notice.info{background:#f0f7ff;border-color:#b6d8f7}.notice h3{margin:0 0 .3rem}.notice p{margin:.3rem 0}
.notice ul{margin:.4rem 0 0 1.1rem;
padding:0}.notice li{margin:.2rem 0}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
label{display:block;margin:.5rem 0 .2rem;font-weight:600;font-size:.85rem}
input,select{width:100%;padding:.45rem .55rem;border:1px solid #cbd2d9;border-radius:6px;font:inherit;background:#fff}
button{background:var(--blue);color:#fff;border:0;border-radius:6px;padding:.45rem .9rem;font:inherit;
font-weight:600;cursor:pointer;margin-top:.7rem}button.secondary{background:#fff;color:var(--blue);
border:1px solid var(--blue)}
form.inline{display:flex;gap:.4rem;align-items:center;margin:.25rem 0}form.inline input{width:9.5rem}
form.inline button{margin:0;white-space:nowrap}details summary{cursor:pointer;color:var(--blue);font-weight:600}
.fixed{font-size:.78rem;color:var(--muted)}
"""

_LAYOUT = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Marketplaces · MIP</title>
<style>{{ style }}</style></head><body>
<header><div class="crumb"><b>MIP</b><span>›</span>Multi-Channel<span>›</span><b>Marketplaces</b></div>
<div class="right">{% if user %}<span id="user">{{ user }}</span>{% endif %}
<a href="{{ ui_root }}">Airflow UI</a></div></header>
<main>
{% if notice %}
<div class="notice {{ notice.kind }}" id="notice" data-code="{{ notice.code or '' }}">
<h3>{{ notice.title }}</h3>{% if notice.message %}<p class="message">{{ notice.message }}</p>{% endif %}
{% if notice.details %}<ul>{% for line in notice.details %}<li>{{ line }}</li>{% endfor %}</ul>{% endif %}
{% if notice.snippet %}<pre id="snippet">{{ notice.snippet }}</pre>{% endif %}
{% if notice.problems %}<p><b>{{ notice.problems_title }}</b></p>
<ul id="problems">{% for p in notice.problems %}<li>{{ p }}</li>{% endfor %}</ul>{% endif %}
</div>{% endif %}
{% block body %}{% endblock %}
</main></body></html>"""

_PAGE = """{% extends "layout" %}
{% macro countries() %}<option value="" disabled selected>Choose the marketplace…</option>
{% for region, markets in marketplaces | groupby("region") %}<optgroup label="{{ regions[region] }}">
{% for m in markets %}<option value="{{ m.country }}">{{ m.country }} · {{ m.seller_central }}</option>{% endfor %}
</optgroup>{% endfor %}{% endmacro %}
{% block body %}<input type="hidden" id="csrf" name="csrf" value="{{ csrf }}">
<h2>Seller accounts</h2>
<table id="accounts"><thead><tr><th>Account</th><th>Seller ID</th><th>Connection</th><th>Authorization</th>
<th>Last health check</th><th>Actions</th></tr></thead><tbody>
{% for a in accounts %}<tr id="account-{{ a.account.id }}">
<td><b>{{ a.account.id }}</b><div class="small muted">region {{ a.account.region }} · channels
{{ a.channels | join(", ") }}</div></td>
<td><code>{{ a.account.seller_id }}</code>{% if a.connection.seller_id and a.connection.seller_id !=
 a.account.seller_id %}<div class="small" style="color:var(--bad)">connection: <code>{{ a.connection.seller_id
}}</code> — set this seller_id in the topology</div>{% endif %}</td>
<td><code>{{ a.connection.conn_id }}</code><div class="small muted">{% if not a.connection.exists %}not created yet
{% elif a.connection.endpoint %}endpoint {{ a.connection.endpoint }}{% else %}Amazon{% endif %}</div></td>
<td class="authorization">{% if not a.connection.exists or not a.connection.authorized %}
<span class="pill bad">not connected</span>
{% else %}{% if a.failure %}<span class="pill failed">expiring</span>{% elif a.warning %}
<span class="pill warning">re-authorize</span>{% else %}<span class="pill ok">authorized</span>{% endif %}
<div class="small">{% if a.age_days is not none %}{{ a.age_days }} days old{% if a.reauthorize_by %} · re-authorize
by {{ a.reauthorize_by }}{% endif %}{% endif %}</div>
{% if a.failure or a.warning %}<div class="small muted">{{ a.failure or a.warning }}</div>{% endif %}{% endif %}</td>
<td>{% if a.health %}<span class="pill {{ a.health.status }}">{{ a.health.status }}</span>
<div class="small muted">{{ a.health.checked_at.strftime("%Y-%m-%d %H:%M UTC") }}</div>
<div class="small" title="{{ a.health.message }}">{{ a.health.message | truncate(140) }}</div>
{% else %}<span class="muted small">never checked (mip_account_health)</span>{% endif %}</td>
<td>{% if not a.can_edit %}<span class="small muted">editing needs permission to edit connection
{{ a.connection.conn_id }}</span>
{% elif a.needs_app_credentials or not a.app_id %}
<details {% if a.needs_app_credentials %}open{% endif %}><summary>Set up the application's credentials</summary>
<p class="small muted">The SP-API application's LWA credentials are configured once by its developer (docs/accounts.md);
MIP keeps them in the account's connection and never shows them again.</p>
<form method="post" action="{{ base }}/accounts/{{ a.account.id }}/app-credentials" class="app-credentials">
<input type="hidden" name="csrf" value="{{ csrf }}">
{% if sources %}<label>Copy from</label><select name="copy_from"><option value="">— enter them below —</option>
{% for s in sources if s != a.account.id %}<option value="{{ s }}">account {{ s }}'s connection</option>
{% endfor %}</select>{% endif %}
<label>LWA client id</label><input name="lwa_client_id" autocomplete="off">
<label>LWA client secret</label><input name="lwa_client_secret" type="password" autocomplete="new-password">
<label>Application id</label><input name="application_id" placeholder="amzn1.sp.solution..." autocomplete="off">
<label>Endpoint override</label><input name="endpoint" placeholder="empty = Amazon; the sandbox: http://127.0.0.1:8100">
<button type="submit">Save</button></form></details>
{% else %}
<form method="post" action="{{ base }}/connect" class="inline">
<input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="action" value="reset">
<input type="hidden" name="account_id" value="{{ a.account.id }}">
<button type="submit" id="reset-{{ a.account.id }}">{% if a.connection.authorized %}Reset credentials{% else
%}Connect{% endif %}</button></form>
<form method="post" action="{{ base }}/connect" class="inline">
<input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="action" value="switch">
<input type="hidden" name="account_id" value="{{ a.account.id }}">
<input name="seller_id" placeholder="new Seller ID" aria-label="new Seller ID" required>
<button type="submit" class="secondary" id="switch-{{ a.account.id }}">Switch account</button></form>
{% endif %}</td></tr>{% endfor %}
</tbody></table>

<h2>Channels</h2>
<table id="channels"><thead><tr><th>Channel</th><th>Marketplace</th><th>Role</th><th>Account</th>
<th>Activity</th><th>Recent DAG runs</th></tr></thead><tbody>
{% for c in channels %}<tr id="channel-{{ c.channel.id }}">
<td><b>{{ c.channel.id }}</b></td>
<td>{{ c.channel.country }} <span class="small muted"><code>{{ c.channel.marketplace.marketplace_id }}</code>
· {{ c.channel.marketplace.currency }}</span></td>
<td><span class="pill {{ c.channel.role }}">{{ c.channel.role }}</span>{% if c.channel.linked_main %}
<span class="small">→ linked to <b>{{ c.channel.linked_main }}</b></span>{% endif %}
<div class="fixed">{% if c.conflict %}<span style="color:var(--bad)">{{ c.conflict }}</span>
{% elif c.registered %}fixed since deployment{% else %}not deployed yet{% endif %}</div></td>
<td>{{ c.account.id }} <span class="small muted"><code>{{ c.account.seller_id }}</code></span></td>
<td class="activity small">{% set a = c.activity %}
<div class="listings">listings <b>{{ "{:,}".format(a.listings_live) }}</b> live{% if a.listings_rejected %},
<b style="color:var(--bad)">{{ "{:,}".format(a.listings_rejected) }}</b> rejected{% endif %}</div>
<div class="orders">orders, last 24 h: <b>{{ "{:,}".format(a.orders_24h) }}</b></div>
{% set f = a.fulfilment %}{% if f and (f.waiting or f.at_risk) %}<div class="fulfilment">fulfilment: {% for s, n in
 f.waiting.items() %}{{ s }} <b>{{ n }}</b>{{ ", " if not loop.last }}{% endfor %}{% if f.at_risk %}
 · <b style="color:var(--bad)">{{ f.at_risk }} at risk</b>{% endif %}</div>{% endif %}
<div class="muted">{% if c.channel.role == "main" %}last publish: {{ a.last_publish.strftime("%Y-%m-%d %H:%M")
 if a.last_publish else "never" }}<br>{% endif %}last import: {{ a.last_import.strftime("%Y-%m-%d %H:%M")
 if a.last_import else "never" }}{% if a.missed_by_events is not none %}<br>missed by events (24 h): {{
 a.missed_by_events }}{% endif %}</div></td>
<td>{% for d in c.dags %}<div class="dag"><a class="name" href="{{ d.url }}">{{ d.dag_id }}</a>
{% for r in d.runs %}<a href="{{ r.url }}" title="{{ r.state }} · {{ r.run_id }}"><span class="dot {{ r.state
}}"></span></a>{% endfor %}{% if d.runs %}<span class="small muted">{{ d.runs[0].state }}{% if d.runs[0].when %},
{{ d.runs[0].when.strftime("%Y-%m-%d %H:%M") }}{% endif %}</span>{% else %}<span class="small muted">no runs yet
</span>{% endif %}</div>{% else %}<span class="small muted">no DAGs parsed yet</span>{% endfor %}</td>
</tr>{% endfor %}</tbody></table>
<p class="small muted">A channel's role and its linked main channel are read-only here: they are fixed at the channel's
first deployment so orders and listings never change meaning. To change them deliberately, edit the topology
(<code>{{ topology_file }}</code>), then run <code>mip channels reassign CHANNEL --role ROLE [--link MAIN]
--reason '...'</code>, which is audited.</p>

{% if can_connect %}
<div class="grid">
<form class="card" method="post" action="{{ base }}/connect" id="connect-main">
<h3>Connect a main channel</h3>
<p class="small muted">MIP publishes products to main channels. Enter the Seller ID and the country: you go to Amazon,
sign in as that seller, approve, and come back here.</p>
<input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="action" value="main">
<label for="main-seller">Seller ID (Merchant Token)</label>
<input id="main-seller" name="seller_id" required placeholder="A1B2C3D4E5F6G7">
<label for="main-country">Country</label>
<select id="main-country" name="country" required>{{ countries() }}</select>
<button type="submit">Continue to Amazon</button></form>

<form class="card" method="post" action="{{ base }}/connect" id="connect-international">
<h3>Configure via International Listing</h3>
<p class="small muted">Amazon's Build International Listings copies the offers of a main channel to this country; MIP
verifies the copies and imports its orders. The Seller ID may differ from the main channel's. Products appear only
once Build International Listings is configured on Amazon (Seller Central > Pricing > Build International
Listings).</p>
<input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="action" value="international">
<label for="intl-main">Main channel to link</label>
<select id="intl-main" name="linked_main" required>{% for m in mains %}
<option value="{{ m.id }}">{{ m.id }} ({{ m.country }})</option>{% endfor %}</select>
<label for="intl-seller">Seller ID of this channel</label>
<input id="intl-seller" name="seller_id" required placeholder="A1B2C3D4E5F6G7">
<label for="intl-country">Country</label>
<select id="intl-country" name="country" required>{{ countries() }}</select>
<button type="submit">Continue to Amazon</button></form>
</div>{% else %}<p class="small muted">Connecting accounts needs permission to edit connections.</p>{% endif %}
{% endblock %}"""

_ERROR = """{% extends "layout" %}{% block body %}<p><a href="{{ base }}/">Back to Marketplaces</a></p>{% endblock %}"""


@cache
def environment() -> jinja2.Environment:
    loader = jinja2.DictLoader({"layout": _LAYOUT, "page": _PAGE, "error": _ERROR})
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    env.globals["style"] = Markup(_STYLE)  # our constant CSS, not user data
    return env


def render(name: str, **context) -> str:
    context.setdefault("notice", None)
    context.setdefault("user", None)
    return environment().get_template(name).render(**context)
