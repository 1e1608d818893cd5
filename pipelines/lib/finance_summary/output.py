"""Where exports go, and writing them so a failure never leaves a half-written file behind."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

FORMATS = ("html", "xlsx", "csv")


def default_path(home: Path, label: str, fmt: str) -> Path:
    """`<home>/reports/finance/<label>.<fmt>`; csv is a directory `<label>-csv/` of one file per section."""
    name = f"{label}-csv" if fmt == "csv" else f"{label}.{fmt}"
    return home / "reports" / "finance" / name


def write_file_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp)` on a temporary file beside `path`, then rename it over `path` (atomic on POSIX)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        tmp.chmod(0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_directory_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Fill a temporary directory with `write(tmp_dir)`, then swap it in for `path` (the old one is removed last)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    old = path.with_name(f".{path.name}.old")
    try:
        write(tmp)
        tmp.chmod(0o755)
        if path.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return path
