"""Result records: atomic writes and reading of run directories.

A run directory is complete exactly when it contains ``metrics.json``: every other
file is moved into place first and ``metrics.json`` last, each by an atomic rename.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.csv"
SCORES_FILE = "scores.npz"


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _jsonable(obj):
    """Replace non-finite floats by ``None`` so the file is strict JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def write_json_atomic(path, obj) -> None:
    """Write strict JSON (NaN/inf as ``null``) to a temporary file and rename it over ``path``."""
    path = Path(path)
    tmp = _tmp_name(path)
    tmp.write_text(json.dumps(_jsonable(obj), indent=2, sort_keys=True, allow_nan=False) + "\n")
    os.replace(tmp, path)


def move_into_place(tmp_dir: Path, run_dir: Path) -> None:
    """Move every file of ``tmp_dir`` into ``run_dir``, ``metrics.json`` last, then drop ``tmp_dir``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    names = sorted(p.name for p in tmp_dir.iterdir())
    for name in sorted(names, key=lambda n: n == METRICS_FILE):
        os.replace(tmp_dir / name, run_dir / name)
    tmp_dir.rmdir()


def invalidate(run_dir) -> None:
    """Remove a previous record so that ``run_dir`` reads as incomplete until rewritten."""
    (Path(run_dir) / METRICS_FILE).unlink(missing_ok=True)


def read_metrics(run_dir) -> dict:
    """The record of a complete run; ``FileNotFoundError`` if the run is incomplete."""
    path = Path(run_dir) / METRICS_FILE
    with open(path) as handle:
        return json.load(handle)
