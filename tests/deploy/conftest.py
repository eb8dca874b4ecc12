"""Helpers for the deployment tests: the repository's deployment files, read without a Docker engine."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
# the distributed-test harness (scripts/mipdist) is imported by some tests
if str(ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(ROOT / "scripts"))


def load_script(path: Path) -> ModuleType:
    """Import a script that is not part of a package (deploy/*.py)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_VARIABLE = re.compile(r"\$(?:\$|\{(?P<braced>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


class MissingVariable(KeyError):
    pass


def interpolate(value, env: dict[str, str]):
    """Compose's variable interpolation (``$$``, ``$VAR``, ``${VAR}``, ``:-``/``-`` defaults, ``:?``/``?`` errors)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        expression = match.group("braced") if match.group("braced") is not None else match.group("plain")
        for operator in (":-", ":?", "-", "?"):
            name, found, argument = expression.partition(operator)
            if found and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                break
        else:
            name, operator, argument = expression, "", ""
        current = env.get(name)
        if operator == ":-":
            return current if current else argument
        if operator == "-":
            return current if current is not None else argument
        if operator in (":?", "?") and (current is None or (operator == ":?" and not current)):
            raise MissingVariable(f"{name}: {argument}")
        return current or ""

    return _VARIABLE.sub(replace, value)
