"""How every command line entry point of ``mip`` reports a user's mistake: one line, no traceback, exit 1.

``mip`` (``mip.cli``), ``python -m mip.catalog`` and ``python -m mip.migration`` run their work through
``report_user_errors``. A user error (a file or a setting the user can fix, a database that cannot be
reached) prints ``<program>: error: <file and problem>. Fix: <what to do>`` on stderr; anything else is a
bug and keeps its traceback.

A user error is a ``UserError`` (its class may name the ``fix``), a database that cannot be reached, or
an ``OSError``. The modules raising them import this one, never the other way round.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


class UserError(Exception):
    """A file or a setting the user can fix; ``fix`` (when set) is appended unless the message has one."""

    fix = ""


def _user_errors() -> tuple[type[BaseException], ...]:
    import psycopg
    from sqlalchemy.exc import OperationalError as DatabaseUnreachable  # mip db upgrade (Alembic)

    return (UserError, psycopg.OperationalError, DatabaseUnreachable, OSError)


def _fix(exc: BaseException) -> str:
    import psycopg
    from sqlalchemy.exc import OperationalError as DatabaseUnreachable

    if isinstance(exc, psycopg.OperationalError | DatabaseUnreachable):
        return "check MIP_DATABASE_URL (or --url) and that the PostgreSQL server is running"
    if isinstance(exc, UserError):
        return exc.fix
    if isinstance(exc, OSError):
        return "check the path and its permissions"
    return ""


def _folded(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def one_line(exc: BaseException) -> str:
    """The error as one line: its message with line breaks folded, then the fix unless it already has one."""
    driver_error = getattr(exc, "orig", None)  # SQLAlchemy's wrapper: the driver's own message
    if isinstance(exc, OSError) and exc.filename is not None:
        message = f"{exc.filename}: {exc.strerror or exc}"
    elif driver_error is not None:
        message = _folded(str(driver_error))
    else:
        message = _folded(str(exc)) or type(exc).__name__
    fix = _fix(exc)
    if fix and "fix" not in message.lower():
        message = f"{message.rstrip('.')}. Fix: {fix}"
    return message


def report_user_errors(program: str, work: Callable[[], int]) -> int:
    """``work()``'s exit status; a user error is printed as one line on stderr and gives 1."""
    try:
        return work()
    except _user_errors() as exc:
        print(f"{program}: error: {one_line(exc)}", file=sys.stderr)
        return 1
