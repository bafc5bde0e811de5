"""Shared pytest set-up: the repository root and this folder are importable.

``import layers`` and ``import derivations`` need the repository root on ``sys.path`` even when
pytest is started without ``PYTHONPATH``; the layer tests share ``layers_support`` from this folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
for folder in (REPO_ROOT, TESTS_DIR):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
