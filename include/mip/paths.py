"""Paths that come from users (DAG Params, command-line arguments), confined to configured directories.

A user who may only trigger DAGs can set their Params, so a Param naming a file would otherwise let
them read any file the worker can read. Every such path goes through ``confine``: it is resolved
first (symlinks and ``..`` followed; a relative path is taken from the first allowed directory) and
accepted only inside one of the allowed directories. A refused path gets the same message whether it
exists or not, and the caller reads the *resolved* path it returns, never the path as given.

- ``MIP_IMPORTS_DIR`` (default ``<repo>/.local/imports``): files users bring in, e.g. a seller's
  listings file for ``mip_migrate_csv__<channel>`` or another supplier drop for ``mip_catalog_sync``.
- ``MIP_SUPPLIER_DIR`` (default ``<repo>/.local/supplier``): the supplier's drop folder.

Both are set by the deployment (environment), never by a Param.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from mip.command_errors import UserError

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL = REPO_ROOT / ".local"


class PathRefused(ValueError, UserError):
    """A user-given path outside the allowed directories (or not usable inside them)."""


def imports_dir() -> Path:
    """Where files users name must be: ``MIP_IMPORTS_DIR``, else ``<repo>/.local/imports``."""
    return Path(os.environ.get("MIP_IMPORTS_DIR") or LOCAL / "imports")


def supplier_dir() -> Path:
    """The supplier's drop folder: ``MIP_SUPPLIER_DIR``, else ``<repo>/.local/supplier``."""
    return Path(os.environ.get("MIP_SUPPLIER_DIR") or LOCAL / "supplier")


def confine(given: str | os.PathLike, roots: Sequence[Path], *, what: str) -> Path:
    """``given`` resolved, if it lies inside one of ``roots`` (or is one of them); ``PathRefused`` otherwise.

    Nothing outside the roots is read or tested for existence beyond what resolving symlinks needs, and
    the message is the same for an existing and a missing path.
    """
    text = os.fspath(given).strip()
    allowed = [Path(root).resolve() for root in roots]
    refusal = PathRefused(
        f"{what} {text!r} is refused: only paths inside {' or '.join(str(r) for r in allowed)} are accepted "
        "(after following symlinks and '..'). Put the file there (MIP_IMPORTS_DIR) and give its name or full path"
    )
    if not text or "\x00" in text:
        raise refusal
    candidate = Path(text)
    if not candidate.is_absolute():
        candidate = allowed[0] / candidate
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        raise refusal from None
    if any(resolved == root or resolved.is_relative_to(root) for root in allowed):
        return resolved
    raise refusal


def confined_file(given: str | os.PathLike, roots: Sequence[Path], *, what: str) -> Path:
    """``confine``, then the resolved path must be a regular file (a FIFO or a folder would not do)."""
    path = confine(given, roots, what=what)
    if not path.is_file():
        raise PathRefused(f"{what} {os.fspath(given).strip()!r}: there is no file {path.name!r} at {path}")
    return path
