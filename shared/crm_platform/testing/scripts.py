"""A script that is not a package module (a benchmark under benchmarks/) loaded as a module for its tests."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_script(script: Path) -> ModuleType:
    """The script as a module named by its stem (registered in sys.modules while it loads, as dataclasses need);
    the path entries and the modules of its own folder that loading it adds (benchmarks/ and its scripts, itself
    too) are taken away again, so that other test modules import as they would without it."""
    path, modules = list(sys.path), set(sys.modules)
    spec = importlib.util.spec_from_file_location(script.stem, script)
    module = sys.modules[script.stem] = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            if (getattr(sys.modules[name], "__file__", None) or "").startswith(str(script.parent)):
                del sys.modules[name]
    return module


def saved_report(out: str) -> Path:
    """The report file a benchmark printed it saved (its `saved <path>` line)."""
    return Path(next(line for line in out.splitlines() if line.startswith("saved "))[len("saved "):])
