"""Importing user modules by name, as upstream scripts occasionally do."""

from __future__ import annotations

import importlib
from types import ModuleType


def import_module(name: str) -> ModuleType:
    return importlib.import_module(name[:-3] if name.endswith(".py") else name)
