"""The package's declared dependency ranges admit every version line it is installed in.

The images install the wheel with --no-deps beside the line's pinned packages, so a range
that excludes a line's pin would only show up as a failed `pip check` deep in the final
stage's build. This reads the lines from images/versions.json and fails first, naming the
line, the package and both versions.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PACKAGE = Path(__file__).resolve().parents[1]
VERSIONS_FILE = PACKAGE.parents[1] / "images" / "versions.json"


def _declared() -> list[Requirement]:
    project = tomllib.loads((PACKAGE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(spec) for spec in project["dependencies"]]


def _lines() -> dict[str, dict[str, str]]:
    """Each line's pins over all its stages, by canonical package name."""
    lines = json.loads(VERSIONS_FILE.read_text(encoding="utf-8"))["lines"]
    return {
        name: {
            canonicalize_name(package): version
            for stage in line["pins"].values()
            for package, version in stage.items()
        }
        for name, line in lines.items()
    }


LINES = _lines()


def test_every_line_is_checked() -> None:
    assert LINES, f"{VERSIONS_FILE} has no lines"


@pytest.mark.parametrize("line", sorted(LINES))
def test_declared_ranges_admit_the_lines_pins(line: str) -> None:
    pins = LINES[line]
    problems = []
    for requirement in _declared():
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None:
            problems.append(
                f"{requirement.name}: the line pins no version (pyproject.toml needs it)"
            )
        elif not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(
                f"{requirement.name} {pinned} is outside pyproject.toml's {requirement}"
            )
    assert not problems, f"line {line} in {VERSIONS_FILE.name}:\n  " + "\n  ".join(problems)
