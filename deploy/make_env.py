"""Write the ``.env`` docker compose reads: the host user id and the secrets every Airflow component shares.

    python3 deploy/make_env.py [PATH]        (default: .env beside docker-compose.yaml)

Airflow 3's components must agree on three secrets: the JWT secret that signs the tokens the
scheduler gives tasks and the workers present to the execution API, the api-server's secret key and
the Fernet key that encrypts connections and variables in the metadata database. docker-compose.yaml
refuses to start without them. Run this once, then copy the same file to every machine of the
deployment. Existing values are kept (re-running only adds what is missing); stdlib only, so it runs
with any Python 3 before anything is installed.

``.env`` is written mode 0600 from its first byte (its directory is the checkout, where compose reads
it). An existing ``.env`` or ``deploy/accounts.env`` that group or others can read is refused, with the
``chmod`` that fixes it. The JWT secret and the api secret key are 64 random bytes (HS512 keys no
library warns about); a shorter one kept from an older version is reported, not replaced, since every
machine of the deployment must share it.
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))  # mip.secret_files: stdlib only, usable before `pip install`

from mip.secret_files import HMAC_KEY_BYTES, ExposedSecretError, random_key, refuse_exposed, write_secret  # noqa: E402

ACCOUNTS_ENV = ROOT / "deploy" / "accounts.env"
SIGNING_KEYS = ("MIP_JWT_SECRET", "MIP_API_SECRET_KEY")


def generated_values() -> dict[str, str]:
    return {
        "AIRFLOW_UID": str(os.getuid()) if hasattr(os, "getuid") else "50000",
        "MIP_JWT_SECRET": random_key(),
        "MIP_API_SECRET_KEY": random_key(),
        # a Fernet key is 32 random bytes, url-safe base64 (what cryptography's Fernet.generate_key makes)
        "MIP_FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "MIP_ADMIN_PASSWORD": secrets.token_urlsafe(12),
    }


def read_env(path: Path) -> dict[str, str]:
    values = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip()
    return values


def write_env(path: Path) -> list[str]:
    """Add the missing variables to ``path``; returns the names added."""
    existing = read_env(path)
    added = {k: v for k, v in generated_values().items() if k not in existing}
    if added:
        text = path.read_text() if path.exists() else "# docker compose variables of MIP (deploy/make_env.py)\n"
        if not text.endswith("\n"):
            text += "\n"
        text += "".join(f"{key}={value}\n" for key, value in added.items())
        write_secret(path, text)
    return list(added)


def short_signing_keys(path: Path) -> list[str]:
    """The JWT/HMAC keys of ``path`` shorter than HS512 wants (PyJWT warns about them)."""
    values = read_env(path)
    return [key for key in SIGNING_KEYS if key in values and len(values[key].encode()) < HMAC_KEY_BYTES]


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else ROOT / ".env"
    try:
        refuse_exposed([path, ACCOUNTS_ENV])
    except ExposedSecretError as exc:
        print(f"{path}: nothing written: {exc}", file=sys.stderr)
        return 1
    added = write_env(path)
    print(f"{path}: {'added ' + ', '.join(added) if added else 'complete, nothing changed'}")
    for key in short_signing_keys(path):
        print(
            f"{path}: {key} is shorter than {HMAC_KEY_BYTES} bytes (a key of an older make_env.py): delete its line, "
            "run this again and copy the file to every machine of the deployment",
            file=sys.stderr,
        )
    admin = read_env(path).get("MIP_ADMIN_PASSWORD")
    print(f"Airflow UI login once the stack is up: admin / {admin}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
