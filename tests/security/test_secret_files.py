"""Secrets on disk: ``make up`` (scripts/up.py) and ``deploy/make_env.py`` write them 0600 in 0700
directories whatever the umask, refuse to start when one is readable by group or others (naming the
``chmod`` that fixes it), and generate signing keys long enough that PyJWT does not warn.

Real functions on real files: ``up.py`` loaded with ``MIP_LOCAL_DIR`` in a temporary directory, its
entry point and ``make_env.py`` run as the commands people run.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import jwt
import pytest

from tests.conftest import ROOT
from tests.deploy.conftest import load_script
from tests.marketplaces.conftest import free_port

SIGNING_KEYS = ("AIRFLOW__API__SECRET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def no_umask():
    """Umask 0: a file created with the default mode would be world-readable (0666)."""
    previous = os.umask(0)
    yield
    os.umask(previous)


@pytest.fixture
def local(tmp_path, monkeypatch) -> Path:
    """``make up``'s state directory (``MIP_LOCAL_DIR``) for one test."""
    monkeypatch.setenv("MIP_LOCAL_DIR", str(tmp_path / "local"))
    return tmp_path / "local"


def load_up():
    """scripts/up.py, read with the environment of the test (its settings are read at import)."""
    up = load_script(ROOT / "scripts" / "up.py")
    assert Path(os.environ["MIP_LOCAL_DIR"]) == up.LOCAL, "make up must keep its state where MIP_LOCAL_DIR says"
    return up


def airflow_environment(up) -> dict[str, str]:
    return up.airflow_environment("postgresql://db/mip", "postgresql+psycopg2://db/airflow")


def run_up(local: Path) -> subprocess.CompletedProcess:
    """``make up``'s entry point; if it got past its checks it would stop at once on an unreachable database."""
    nowhere = "postgresql://postgres@127.0.0.1:1"
    env = {
        **os.environ,
        "MIP_LOCAL_DIR": str(local),
        "MIP_DATABASE_URL": f"{nowhere}/mip",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"{nowhere.replace('postgresql', 'postgresql+psycopg2')}/airflow",
        "MIP_AIRFLOW_PORT": os.environ.get("MIP_AIRFLOW_PORT") or str(free_port()),
        "MIP_SANDBOX_PORT": os.environ.get("MIP_SANDBOX_PORT") or str(free_port()),
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "up.py")], env=env, capture_output=True, text=True, timeout=300
    )


def run_make_env(path: Path) -> subprocess.CompletedProcess:
    """deploy/make_env.py as on a machine where nothing is installed: no site-packages (-S), umask 0."""
    return subprocess.run(
        [sys.executable, "-I", "-S", str(ROOT / "deploy" / "make_env.py"), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: os.umask(0),
    )


def signs_without_warning(key: str) -> bool:
    """HS512 (Airflow's algorithm for a jwt_secret) with ``key``: True when PyJWT raised no warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            token = jwt.encode({"sub": "probe"}, key, algorithm="HS512")
            jwt.decode(token, key, algorithms=["HS512"])
        except jwt.InsecureKeyLengthWarning:
            return False
    return True


def test_make_up_writes_its_secrets_0600_in_a_0700_directory_whatever_the_umask(local, no_umask):
    env = airflow_environment(load_up())

    secrets_dir = local / "secrets"
    files = {p.name: p for p in secrets_dir.iterdir()}
    assert set(files) == {"api_secret_key", "jwt_secret", "fernet_key", "passwords.json"}
    assert mode(secrets_dir) == 0o700
    assert {name: oct(mode(p)) for name, p in files.items()} == dict.fromkeys(files, oct(0o600))
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(files["passwords.json"])
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == files["jwt_secret"].read_text()
    assert not list(local.glob("airflow/passwords.json")), "no password file outside the secrets directory"
    assert not list(secrets_dir.glob(".*")), "no temporary file left behind"


def test_generated_signing_keys_are_long_enough_that_pyjwt_does_not_warn(local, tmp_path):
    from cryptography.fernet import Fernet

    assert not signs_without_warning("k" * 43), "the probe must see PyJWT's warning for a 32-byte-era key"
    env = airflow_environment(load_up())
    assert run_make_env(tmp_path / ".env").returncode == 0
    dotenv = load_script(ROOT / "deploy" / "make_env.py").read_env(tmp_path / ".env")

    keys = {name: env[name] for name in SIGNING_KEYS} | {k: dotenv[k] for k in ("MIP_JWT_SECRET", "MIP_API_SECRET_KEY")}
    assert {name: len(key.encode()) >= 64 for name, key in keys.items()} == dict.fromkeys(keys, True)
    assert {name: signs_without_warning(key) for name, key in keys.items()} == dict.fromkeys(keys, True)
    Fernet(env["AIRFLOW__CORE__FERNET_KEY"].encode())  # raises on a malformed key
    Fernet(dotenv["MIP_FERNET_KEY"].encode())


def test_a_short_signing_key_of_an_older_make_up_is_replaced_and_the_fernet_key_kept(local):
    secrets_dir = local / "secrets"
    secrets_dir.mkdir(parents=True, mode=0o700)
    old_jwt, fernet = "x" * 44, "b" * 43 + "="
    for name, value in (("jwt_secret", old_jwt), ("fernet_key", fernet)):
        (secrets_dir / name).write_text(value)
        (secrets_dir / name).chmod(0o600)

    env = airflow_environment(load_up())

    assert env["AIRFLOW__CORE__FERNET_KEY"] == fernet, "the Fernet key decrypts stored connections: never changed"
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] != old_jwt and len(env["AIRFLOW__API_AUTH__JWT_SECRET"]) >= 64
    assert (secrets_dir / "jwt_secret").read_text() == env["AIRFLOW__API_AUTH__JWT_SECRET"]


@pytest.mark.parametrize(
    ("exposed", "file_mode", "directory_mode", "fix"),
    [
        ("jwt_secret", 0o644, 0o700, "chmod 600 {secrets}/jwt_secret"),
        ("fernet_key", 0o640, 0o700, "chmod 600 {secrets}/fernet_key"),
        ("the directory", 0o600, 0o755, "chmod 700 {secrets}"),
    ],
)
def test_make_up_refuses_to_start_when_a_secret_is_readable_by_others(local, exposed, file_mode, directory_mode, fix):
    secrets_dir = local / "secrets"
    secrets_dir.mkdir(parents=True)
    secrets_dir.chmod(directory_mode)
    for name in ("jwt_secret", "fernet_key"):
        (secrets_dir / name).write_text("a secret someone may have read")
        (secrets_dir / name).chmod(file_mode if name == exposed or exposed == "the directory" else 0o600)

    result = run_up(local)

    assert result.returncode == 1, result.stdout + result.stderr
    assert fix.format(secrets=secrets_dir) in result.stderr, result.stderr
    assert "readable" in result.stderr or "access" in result.stderr
    assert sorted(p.name for p in local.iterdir()) == ["secrets"], "nothing started, nothing written"
    assert mode(secrets_dir) == directory_mode, "the modes are left for the person to fix"


def test_make_env_writes_dotenv_0600_and_refuses_one_readable_by_others(tmp_path):
    path = tmp_path / ".env"
    first = run_make_env(path)
    assert first.returncode == 0, first.stderr
    assert mode(path) == 0o600
    written = path.read_text()

    path.chmod(0o644)
    refused = run_make_env(path)
    assert refused.returncode == 1
    assert f"chmod 600 {path}" in refused.stderr and "nothing written" in refused.stderr, refused.stderr
    assert path.read_text() == written and mode(path) == 0o644


def test_make_env_keeps_a_short_key_of_an_older_version_and_says_how_to_renew_it(tmp_path):
    path = tmp_path / ".env"
    path.write_text("MIP_JWT_SECRET=short-but-shared-by-every-machine\n")
    path.chmod(0o600)

    result = run_make_env(path)

    assert result.returncode == 0, result.stderr
    assert "MIP_JWT_SECRET=short-but-shared-by-every-machine\n" in path.read_text()
    assert "MIP_JWT_SECRET is shorter than 64 bytes" in result.stderr, result.stderr
    assert "MIP_API_SECRET_KEY" not in result.stderr, "the key it generated is long enough"
    assert mode(path) == 0o600
