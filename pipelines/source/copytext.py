"""How the builders hold column values, and those values as PostgreSQL COPY text.

The generator loads with binary COPY (copybinary.py); the text writer here is the
baseline bench/source.py measures it against, and the helpers (seeded RNGs, uuids,
fixed-point numbers, cells made of parts) build the values both writers take.

A column is a numpy array whose dtype says how it is written:
  S (bytes)          written as is (uuids, vocabulary words); b"\\N" is NULL
  datetime64[D]      a date; NaT is NULL
  datetime64[s|us]   a UTC instant, written "YYYY-MM-DD HH:MM:SS+00"; NaT is NULL
  int / bool         a number / t, f
  object             str or None, escaped per row (rare free text, odd text, huge notes)

Rows are assembled as one uint8 matrix of fixed-width cells padded with NUL bytes, which
one boolean index drops: no Python work per row except for object columns.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

NULL = b"\\N"
_LONG = 512  # object cells longer than this are written on the slow path, not padded
_HEX_OF_PAIR = np.frombuffer(b"".join(f"{i:04x}".encode() for i in range(65536)), "<u4")  # 2 bytes -> 4 hex digits
_TIME_OF_DAY = np.frombuffer(
    b"".join(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}".encode() for s in range(86400)), np.uint8
).reshape(86400, 8)


def rng_for(seed: int, purpose: str) -> np.random.Generator:
    """An RNG per (seed, purpose): one table's draws never shift another's."""
    return np.random.default_rng([seed, zlib.crc32(purpose.encode())])


def uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` random version-4 uuids as S36 text, drawn from `rng` (deterministic, unlike uuid4)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    digits = _HEX_OF_PAIR[raw.view(">u2")].view(np.uint8).reshape(n, 32)  # one lookup per two bytes
    out = np.full((n, 36), ord("-"), np.uint8)
    for dst, (lo, hi) in zip((0, 9, 14, 19, 24), ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32)), strict=True):
        out[:, dst : dst + hi - lo] = digits[:, lo:hi]
    return out.view("S36").ravel()


def escape(value: str) -> bytes:
    """One text value in COPY text format."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r").encode("utf-8")


def _dates(values: np.ndarray) -> np.ndarray:
    missing = np.isnat(values)
    days = values.astype("datetime64[D]")
    if missing.all():
        return np.full(len(values), NULL, "S10")
    lo, hi = days[~missing].min(), days[~missing].max()
    table = np.datetime_as_string(np.arange(lo, hi + 1)).astype("S10")
    out = table[np.where(missing, 0, (days - lo).astype(np.int64))]
    return np.where(missing, NULL, out)


def _instants(values: np.ndarray) -> np.ndarray:
    missing = np.isnat(values)
    seconds = values.astype("datetime64[s]")
    day = seconds.astype("datetime64[D]")
    of_day = np.where(missing, 0, (seconds - day).astype(np.int64))
    n = len(values)
    out = np.empty((n, 22), np.uint8)
    out[:, :10] = _dates(day).view(np.uint8).reshape(n, 10)
    out[:, 10] = ord(" ")
    out[:, 11:19] = _TIME_OF_DAY[of_day]
    out[:, 19:] = np.frombuffer(b"+00", np.uint8)
    return np.where(missing, NULL, out.view("S22").ravel())


def _digits(values: np.ndarray) -> int:
    """Characters of the widest integer in `values` (sign included)."""
    if len(values) == 0:
        return 1
    widest = max(abs(int(values.max())), abs(int(values.min())))
    return len(str(widest)) + 1


def _objects(values: np.ndarray) -> list[bytes]:
    return [NULL if v is None else escape(v) for v in values]


def text_cells(values: np.ndarray) -> np.ndarray | list[bytes]:
    """One column as COPY cells: an S array, or a list of bytes for object columns."""
    if hasattr(values, "cells"):  # a composite column that formats itself (e.g. JSON routes)
        return values.cells()
    kind = values.dtype.kind
    if kind == "S":
        return values
    if kind == "M":
        unit = np.datetime_data(values.dtype)[0]
        return _dates(values) if unit == "D" else _instants(values)
    if kind == "b":
        return np.where(values, b"t", b"f")
    if kind in "iu":
        return values.astype(f"S{_digits(values)}")
    if kind == "O":
        return _objects(values)
    raise TypeError(f"no COPY text format for dtype {values.dtype}")


def copy_text(columns: Sequence[np.ndarray]) -> bytes:
    """Rows of `columns` (equal lengths) as COPY text, tab-separated, newline-terminated."""
    n = len(columns[0])
    cells = [text_cells(column) for column in columns]
    slow = np.zeros(n, bool)
    for cell in cells:
        if isinstance(cell, list):
            slow |= np.fromiter(map(len, cell), np.int64, n) > _LONG
    fast = np.flatnonzero(~slow)
    parts = []
    for k, cell in enumerate(cells):
        if isinstance(cell, list):
            cell = np.array([cell[i] for i in fast], dtype="S") if len(fast) else np.empty(0, "S1")
        else:
            cell = cell[fast] if len(fast) < n else cell
        width = max(cell.dtype.itemsize, 1)
        parts.append(np.ascontiguousarray(cell).astype(f"S{width}").view(np.uint8).reshape(len(fast), width))
        parts.append(np.full((len(fast), 1), ord("\t" if k < len(cells) - 1 else "\n"), np.uint8))
    matrix = np.hstack(parts).ravel()
    text = matrix[matrix != 0].tobytes()  # drop the padding
    for i in np.flatnonzero(slow):
        text += (b"\t".join(bytes(cell[i]) for cell in cells) + b"\n").replace(b"\x00", b"")
    return text


def fixed_point(values: np.ndarray, decimals: int) -> np.ndarray:
    """Integers scaled by 10**decimals as decimal text ("-33.87012"), an S array.

    Digits come from integer arithmetic (numpy's int -> str cast is slow); leading zeros
    and the sign of positive numbers are NUL padding, dropped when rows are written.
    """
    n = len(values)
    magnitude = np.abs(values).astype(np.int64)
    whole = max(1, len(str(int(magnitude.max(initial=0)) // 10**decimals)))
    powers = 10 ** np.arange(whole + decimals - 1, -1, -1, dtype=np.int64)
    digits = (magnitude[:, None] // powers % 10).astype(np.uint8) + ord("0")
    leading = np.cumsum(digits[:, : whole - 1] != ord("0"), axis=1) == 0
    digits[:, : whole - 1][leading] = 0
    sign = np.where(values < 0, ord("-"), 0).astype(np.uint8)[:, None]
    dot = np.full((n, 1), ord("."), np.uint8)
    matrix = np.hstack([sign, digits[:, :whole], dot, digits[:, whole:]])
    return matrix.view(f"S{matrix.shape[1]}").ravel()


def concat(parts: Sequence[np.ndarray | bytes], n: int) -> np.ndarray:
    """Cells made of parts side by side (S arrays or constant bytes), an S array.

    Padding NULs inside stay in the array and are stripped when the rows are written.
    """
    matrices = []
    for part in parts:
        if isinstance(part, bytes):
            part = np.full(n, part, f"S{max(len(part), 1)}")
        width = part.dtype.itemsize
        matrices.append(np.ascontiguousarray(part).view(np.uint8).reshape(n, width))
    matrix = np.hstack(matrices)
    return matrix.view(f"S{matrix.shape[1]}").ravel()
