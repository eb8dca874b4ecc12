"""The Dockerfile installs exactly requirements.txt (same pins) and the mip package on the pinned Airflow image."""

from __future__ import annotations

import fnmatch
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tests.deploy.conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def instructions(text: str) -> list[Instruction]:
    """Dockerfile instructions, continuation lines joined, comments dropped."""
    result, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        keyword, _, arguments = current.strip().partition(" ")
        result.append(Instruction(keyword.upper(), arguments.strip()))
        current = ""
    return result


def requirements(path: Path) -> dict[str, Requirement]:
    reqs = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            reqs[req.name.lower()] = req
    return reqs


def copies(steps: list[Instruction]) -> dict[str, tuple[int, str]]:
    """COPY source -> (position, destination)."""
    result = {}
    for index, step in enumerate(steps):
        if step.keyword == "COPY":
            parts = [p for p in shlex.split(step.arguments) if not p.startswith("--")]
            for source in parts[:-1]:
                result[source] = (index, parts[-1])
    return result


def pip_installs(steps: list[Instruction]) -> list[tuple[int, list[str]]]:
    """(position, arguments after `pip install`) of every pip install in a RUN."""
    found = []
    for index, step in enumerate(steps):
        if step.keyword != "RUN":
            continue
        for command in re.split(r"&&|;", step.arguments):
            words = shlex.split(command)
            for i in range(len(words) - 1):
                if words[i].endswith("pip") and words[i + 1] == "install":
                    found.append((index, words[i + 2 :]))
    return found


def install_problems(text: str, reqs: dict[str, Requirement]) -> list[str]:
    """Why the Dockerfile ``text`` would not install exactly ``reqs`` (empty when it does)."""
    steps = instructions(text)
    problems = []
    copied = copies(steps)
    if "requirements.txt" not in copied:
        return ["requirements.txt is not copied into the image"]
    position, destination = copied["requirements.txt"]
    installs = pip_installs(steps)
    from_file = [(i, args) for i, args in installs if "-r" in args and args[args.index("-r") + 1] == destination]
    if not from_file:
        problems.append(f"no `pip install -r {destination}`")
    for index, args in from_file:
        if index < position:
            problems.append("requirements.txt is installed before it is copied")
        if "--no-deps" in args:
            problems.append("requirements.txt is installed with --no-deps")
    for _, args in installs:
        for word in args:
            if word.startswith(("-", "/", ".")) or word == destination:
                continue
            try:
                inline = Requirement(word)
            except ValueError:
                continue
            pinned = reqs.get(inline.name.lower())
            if pinned is None:
                problems.append(f"{word} is installed but not pinned in requirements.txt")
            elif str(inline.specifier) != str(pinned.specifier):
                problems.append(f"{word} differs from requirements.txt's {pinned}")
    return problems


def test_every_requirement_is_pinned():
    for name, req in requirements(ROOT / "requirements.txt").items():
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"requirements.txt: {name} is not pinned with =="


def test_base_image_is_the_pinned_airflow_on_the_project_python():
    steps = instructions(DOCKERFILE.read_text())
    assert steps[0].keyword == "FROM"
    match = re.fullmatch(r"apache/airflow:(?P<version>[\d.]+)(-python(?P<python>\d+\.\d+))?", steps[0].arguments)
    assert match, f"the base image is not the official Airflow image: {steps[0].arguments}"
    pinned = requirements(ROOT / "requirements.txt")["apache-airflow"]
    assert pinned.specifier == SpecifierSet(f"=={match['version']}")
    requires_python = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert match["python"], "name the Python of the image (the default may differ from the project's)"
    assert Version(match["python"]) in SpecifierSet(requires_python)


def test_requirements_are_installed_with_their_pins():
    assert install_problems(DOCKERFILE.read_text(), requirements(ROOT / "requirements.txt")) == []


def test_the_check_notices_a_different_pin_or_a_missing_install():
    reqs = requirements(ROOT / "requirements.txt")
    text = DOCKERFILE.read_text()
    assert install_problems(text + "\nRUN pip install --no-cache-dir pandas==0.1\n", reqs) == [
        f"pandas==0.1 differs from requirements.txt's {reqs['pandas']}"
    ]
    assert install_problems(text + "\nRUN pip install leftpad==1.0\n", reqs) == [
        "leftpad==1.0 is installed but not pinned in requirements.txt"
    ]
    without = text.replace("-r /opt/airflow/requirements.txt", "apache-airflow==3.3.2")
    assert "no `pip install -r /opt/airflow/requirements.txt`" in install_problems(without, reqs)


def test_the_mip_package_is_installed_from_the_copied_project():
    steps = instructions(DOCKERFILE.read_text())
    copied = copies(steps)
    project_dir = str(Path(copied["pyproject.toml"][1]).parent)
    assert copied["include"][1] == f"{project_dir}/include"
    after = max(copied["pyproject.toml"][0], copied["include"][0])
    installs = [args for index, args in pip_installs(steps) if index > after and project_dir in args]
    assert installs, f"no pip install of {project_dir} after copying pyproject.toml and include/"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["setuptools"]["packages"]["find"]["where"] == ["include"]
    assert "mip" in pyproject["project"]["scripts"]["mip"]


def test_project_folders_are_in_the_image_and_not_ignored():
    copied = copies(instructions(DOCKERFILE.read_text()))
    for folder in ("dags", "plugins", "include", "sandbox", "deploy"):
        assert copied.get(folder, (0, ""))[1] == f"/opt/airflow/{folder}", f"{folder}/ is not copied"
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for source in copied:
        assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), f"{source} is in .dockerignore"
    for local_state in (".venv", ".local", ".git", ".env", "include/channels.registry.json", "deploy/accounts.env"):
        assert local_state in ignored, f"{local_state} would be sent to the Docker build"


def test_the_image_runs_as_the_airflow_user():
    users = [s.arguments for s in instructions(DOCKERFILE.read_text()) if s.keyword == "USER"]
    assert not users or users[-1] == "airflow"
