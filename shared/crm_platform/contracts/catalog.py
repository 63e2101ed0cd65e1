"""Every published topic: each module of this package that declares a `Topic` (a new service adds its module)."""
from __future__ import annotations

import importlib
import pkgutil

import crm_platform.contracts as package
from crm_platform.contracts import Topic


def _topics() -> tuple[Topic, ...]:
    found = []
    for module in sorted(info.name for info in pkgutil.iter_modules(package.__path__) if info.name != "catalog"):
        values = vars(importlib.import_module(f"{package.__name__}.{module}")).values()
        found += [value for value in values if isinstance(value, Topic)]
    return tuple(found)


TOPICS = _topics()
