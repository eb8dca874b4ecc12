"""Secret files on disk (``make up``'s ``.local/secrets``, ``deploy/make_env.py``'s ``.env``).

Written 0600 in 0700 directories, from the first byte (a private temporary file renamed into place,
whatever the umask); an existing one that group or others may read is refused with the ``chmod`` that
fixes it, rather than used or silently tightened: the secret may have been read already, and the
person who runs the command should know. Standard library only: ``deploy/make_env.py`` runs before
anything is installed.
"""

from __future__ import annotations

import os
import secrets
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
# PyJWT warns (InsecureKeyLengthWarning) when an HMAC key is shorter than its hash: HS512, Airflow's
# algorithm for a jwt_secret, needs 64 bytes
HMAC_KEY_BYTES = 64


class ExposedSecretError(RuntimeError):
    """A secret file or directory that group or others can access."""


def random_key() -> str:
    """A key for JWT/HMAC signing: 64 random bytes, URL-safe base64 (86 characters)."""
    return secrets.token_urlsafe(HMAC_KEY_BYTES)


def is_exposed(path: Path) -> bool:
    return bool(stat.S_IMODE(path.stat().st_mode) & 0o077)


def refuse_exposed(paths: Iterable[Path]) -> None:
    """Raise ExposedSecretError naming every existing path of ``paths`` group or others can access,
    with the ``chmod`` commands that fix them."""
    exposed = [p for p in paths if p.exists() and is_exposed(p)]
    if not exposed:
        return
    listed = ", ".join(f"{p} (mode {stat.S_IMODE(p.stat().st_mode):04o})" for p in exposed)
    fixes = "; ".join(f"chmod {'700' if p.is_dir() else '600'} {p}" for p in exposed)
    raise ExposedSecretError(
        f"secret files must be private to their owner, but group or others can access {listed}. "
        f"Fix with: {fixes} (and consider the secrets in them known: regenerate them if others may have read them)"
    )


def private_directory(directory: Path) -> Path:
    """``directory``, created 0700 when missing; refused when it exists and others can access it."""
    if directory.exists():
        refuse_exposed([directory])
    else:
        directory.mkdir(parents=True, mode=DIRECTORY_MODE)
        directory.chmod(DIRECTORY_MODE)  # mkdir's mode goes through the umask
    return directory


def write_secret(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, mode 0600 from the first byte written."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_secret(path: Path) -> str:
    refuse_exposed([path])
    return path.read_text()


def kept_secret(path: Path, generate: Callable[[], str], min_length: int = 0) -> str:
    """The secret kept in ``path`` (its directory private); generated on first use, and again when the
    kept one is shorter than ``min_length`` (a key from an older version)."""
    private_directory(path.parent)
    if path.exists():
        value = read_secret(path)
        if len(value) >= min_length:
            return value
    value = generate()
    write_secret(path, value)
    return value
