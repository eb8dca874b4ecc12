"""Last test of the suite (files run in name order): every log written while it ran, and everything its tests
printed (dag.test() task logs included), holds none of the secret values the suite knows.

The values: every client secret, refresh token, access token and consent code the sandbox ever issued (read
from its SQLite state), every consent ``state`` MIP issued in the session (``mip.marketplace_authorizations``
signed again with the api-server's key), the api-server's keys (``[api] secret_key``, the JWT secret), the
Fernet key and the markers of ``test_paths``. The logs: the api-server's, the sandbox's, and every log file
under the session's Airflow home and the suite's temporary folders.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from mip.airflow.page import state
from tests.conftest import SESSION
from tests.marketplaces.conftest import approve_on_amazon, start_consent
from tests.security.conftest import log_files
from tests.security.test_paths import MARKER


def sandbox_secrets(state_dir: Path) -> set[str]:
    found: set[str] = set()
    for database in [*state_dir.glob("*.sqlite3"), *state_dir.glob("*.db")]:
        with sqlite3.connect(database) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            for table, column in (("refresh_tokens", "token"), ("access_tokens", "token"), ("auth_codes", "code")):
                if table in tables:
                    found |= {row[0] for row in conn.execute(f"SELECT {column} FROM {table}")}
    return found


def issued_states(db, key: bytes) -> set[str]:
    rows = db.execute("SELECT nonce, expires_at FROM mip.marketplace_authorizations").fetchall()
    return {state.sign(key, nonce, expires_at) for nonce, expires_at in rows}


def test_no_log_holds_a_secret(sec_server, sec_sandbox, db, printed, tmp_path_factory):
    with sec_server.client("op") as op:  # at least one full consent, when this test runs alone
        callback = approve_on_amazon(sec_sandbox, start_consent(op, action="reset", account_id="demo"), "demo")
        assert op.get(callback, follow_redirects=True).status_code == 200

    secrets = {account["lwa_client_secret"] for account in sec_sandbox.accounts()}
    secrets |= {account["refresh_token"] for account in sec_sandbox.accounts()}
    secrets |= sandbox_secrets(sec_sandbox.state_dir)
    secrets |= issued_states(db, state.derive_key(sec_server.env["AIRFLOW__API__SECRET_KEY"]))
    secrets |= {sec_server.env["AIRFLOW__API__SECRET_KEY"], sec_server.env["AIRFLOW__API_AUTH__JWT_SECRET"]}
    secrets |= {os.environ["AIRFLOW__CORE__FERNET_KEY"], MARKER}
    secrets = {s for s in secrets if s and len(s) >= 8}
    codes = sandbox_secrets(sec_sandbox.state_dir)
    assert len(secrets) >= 10 and codes, "the suite should know consent codes and tokens by now"

    folders = (sec_server.log.parent, sec_sandbox.state_dir, Path(SESSION["home"]), tmp_path_factory.getbasetemp())
    logs = log_files(*folders)
    texts = {str(path): path.read_text(errors="replace") for path in logs}
    texts["printed by the security tests"] = "\n".join(printed)
    assert "request finished" in texts[str(sec_server.log)], "the api-server's access log is on"
    leaks = [(name, secret[:6] + "...") for name, text in texts.items() for secret in secrets if secret in text]
    assert not leaks, f"secrets in logs: {leaks}"
    print(f"{len(secrets)} secret values searched in {len(texts)} logs: none found")
