"""Numpy columns -> PostgreSQL binary COPY, vectorised.

Binary COPY spares the server the text parsing of uuids, numbers, dates and timestamps,
which measured ~60 % of its COPY time with text input (bench/source.py compares both).

Column values come as the builders keep them (see copytext): S36 uuid text, ints,
datetime64 (NaT = NULL), bools, S text (b"\\N" = NULL, NUL padding ignored) or object
(str / None). Each row is laid out in one uint8 matrix next to a mask of the bytes to
keep (padding and NULL cells dropped), so a chunk becomes bytes with one boolean index;
only rows holding a long object value (a 100 kB note) are packed one by one.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
from sqlalchemy import BigInteger, Boolean, Date, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP, UUID
from sqlalchemy.types import TypeEngine

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)
NULL_TEXT = b"\\N"
_EPOCH_DAY = np.datetime64("2000-01-01", "D")
_EPOCH_US = np.datetime64("2000-01-01T00:00:00", "us")
_LONG = 512  # object cells longer than this are packed on the slow path, not padded
_HEX_DIGITS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])
_NIBBLE = np.zeros(256, np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _NIBBLE[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _NIBBLE[_c] = 10 + _i


def pg_kind(sql_type: TypeEngine) -> str:
    """The binary wire format of a column type of the source schema."""
    for python_type, kind in (
        (UUID, "uuid"),
        (BigInteger, "int8"),
        (Integer, "int4"),
        (Boolean, "bool"),
        (TIMESTAMP, "timestamptz"),
        (Date, "date"),
        (JSONB, "jsonb"),
        (Text, "text"),
    ):
        if isinstance(sql_type, python_type):
            return kind
    raise TypeError(f"no binary COPY format for {sql_type!r}")


def _fixed(values: np.ndarray, null: np.ndarray | None, dtype: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    width = np.dtype(dtype).itemsize
    data = np.ascontiguousarray(values.astype(dtype)).view(np.uint8).reshape(len(values), width)
    length = np.full(len(values), width, np.int32)
    if null is not None and null.any():
        length[null] = -1
    return data, None, length


def _uuid(values: np.ndarray):
    n = len(values)
    text = np.ascontiguousarray(values if values.dtype == "S36" else values.astype("S36")).view(np.uint8).reshape(n, 36)
    nibbles = _NIBBLE[text[:, _HEX_DIGITS]]
    data = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
    return data, None, np.where(values == NULL_TEXT, -1, 16).astype(np.int32)


def _text(values: np.ndarray, jsonb: bool):
    n = len(values)
    width = max(values.dtype.itemsize, 1)
    data = np.ascontiguousarray(values.astype(f"S{width}")).view(np.uint8).reshape(n, width)
    keep = data != 0
    if jsonb:  # jsonb's binary form is a version byte, then the JSON text
        data = np.hstack([np.ones((n, 1), np.uint8), data])
        keep = np.hstack([np.ones((n, 1), bool), keep])
    length = np.where(values == NULL_TEXT, -1, keep.sum(axis=1)).astype(np.int32)
    return data, keep, length


def _cells(values, kind: str):
    """(data (n, w) uint8, keep mask or None for all, length per row with -1 for NULL)."""
    if hasattr(values, "cells"):  # a composite column that formats itself (JSON routes)
        return _text(values.cells(), kind == "jsonb")
    if kind == "uuid":
        return _uuid(values)
    if kind in ("int4", "int8"):
        return _fixed(values, None, ">i4" if kind == "int4" else ">i8")
    if kind == "bool":
        return _fixed(values.astype(np.uint8), None, "u1")
    if kind == "date":
        null = np.isnat(values)
        days = np.where(null, _EPOCH_DAY, values.astype("datetime64[D]"))
        return _fixed((days - _EPOCH_DAY).astype(np.int64), null, ">i4")
    if kind == "timestamptz":
        null = np.isnat(values)
        micros = np.where(null, _EPOCH_US, values.astype("datetime64[us]"))
        return _fixed((micros - _EPOCH_US).astype(np.int64), null, ">i8")
    if values.dtype == object:
        encoded = np.array([NULL_TEXT if v is None else v.encode("utf-8") for v in values], dtype=object)
        return encoded  # resolved by the caller (may hold long values)
    return _text(values, kind == "jsonb")


def _pack_row(cells: list, row: int, kinds: Sequence[str]) -> bytes:
    """One row the slow way (holds a long object value)."""
    out = [struct.pack(">h", len(cells))]
    for cell, kind in zip(cells, kinds, strict=True):
        if isinstance(cell, np.ndarray) and cell.dtype == object:
            value = cell[row]
            if value == NULL_TEXT:
                out.append(struct.pack(">i", -1))
                continue
            value = (b"\x01" + value) if kind == "jsonb" else value
        else:
            data, keep, length = cell
            if length[row] < 0:
                out.append(struct.pack(">i", -1))
                continue
            value = data[row][keep[row]].tobytes() if keep is not None else data[row].tobytes()
        out.append(struct.pack(">i", len(value)) + value)
    return b"".join(out)


def copy_binary(columns: Sequence, kinds: Sequence[str]) -> bytes:
    """Rows of `columns` (equal lengths; `kinds` from `pg_kind`) as binary COPY tuples,
    without the header and trailer (write HEADER once before, TRAILER once after)."""
    n = len(columns[0])
    cells = [_cells(values, kind) for values, kind in zip(columns, kinds, strict=True)]
    slow = np.zeros(n, bool)
    for cell in cells:
        if isinstance(cell, np.ndarray):  # object column: find the long values
            slow |= np.fromiter(map(len, cell), np.int64, n) > _LONG
    slow_rows = np.flatnonzero(slow)
    tail = b"".join(_pack_row(cells, row, kinds) for row in slow_rows)
    fast = np.flatnonzero(~slow)
    if len(fast) == 0:
        return tail
    data_parts = [np.broadcast_to(np.frombuffer(struct.pack(">h", len(cells)), np.uint8), (len(fast), 2))]
    keep_parts = [np.ones((len(fast), 2), bool)]
    for cell, kind in zip(cells, kinds, strict=True):
        if isinstance(cell, np.ndarray):
            short = cell[fast]
            data, keep, length = _text(np.array(short.tolist(), dtype="S"), kind == "jsonb")
        else:
            data, keep, length = cell
            if len(fast) < n:
                data, length = data[fast], length[fast]
                keep = keep[fast] if keep is not None else None
        present = length >= 0
        data_parts += [length.astype(">i4").view(np.uint8).reshape(len(fast), 4), data]
        keep_parts += [
            np.ones((len(fast), 4), bool),
            (keep & present[:, None]) if keep is not None else np.repeat(present[:, None], data.shape[1], 1),
        ]
    matrix, keep = np.hstack(data_parts), np.hstack(keep_parts)
    return matrix[keep].tobytes() + tail
