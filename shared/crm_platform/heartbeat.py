"""Probe for workers: `python -m crm_platform.heartbeat FILE MAX_AGE_S` exits 0 if FILE is fresh."""
from __future__ import annotations

import sys
import time
from pathlib import Path


def is_fresh(path: str, max_age_s: float) -> bool:
    try:
        return time.time() - float(Path(path).read_text()) <= max_age_s
    except (OSError, ValueError):
        return False


if __name__ == "__main__":
    sys.exit(0 if is_fresh(sys.argv[1], float(sys.argv[2])) else 1)
