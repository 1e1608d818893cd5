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
from itertools import product

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
_HEX_PAIR = np.zeros(65536, np.uint8)  # two hex digits read as a little-endian uint16 -> their byte
for _hi, _lo in product(b"0123456789abcdefABCDEF", repeat=2):
    _HEX_PAIR[_hi | _lo << 8] = int(bytes((_hi, _lo)), 16)


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


def _fixed(values: np.ndarray, null: np.ndarray | None, dtype: str) -> tuple[np.ndarray, np.ndarray, bool]:
    width = np.dtype(dtype).itemsize
    data = np.ascontiguousarray(values.astype(dtype)).view(np.uint8).reshape(len(values), width)
    length = np.full(len(values), width, np.int32)
    if null is not None and null.any():
        length[null] = -1
    return data, length, False


def _uuid(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """S36 text -> 16 bytes: one lookup per pair of hex digits (pairs start at even offsets
    in some groups of the text and at odd ones in others)."""
    n = len(values)
    text = np.ascontiguousarray(values if values.dtype == "S36" else values.astype("S36")).view(np.uint8)
    text = text.reshape(n, 36)
    even, odd = text.view("<u2"), np.ascontiguousarray(text[:, 1:35]).view("<u2")
    pairs = np.concatenate([even[:, 0:4], odd[:, 4:6], even[:, 7:9], odd[:, 9:11], even[:, 12:18]], axis=1)
    return _HEX_PAIR[pairs], np.where(values == NULL_TEXT, -1, 16).astype(np.int32), False


def _text(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """S cells as a NUL-padded matrix; the length counts the bytes that are not padding."""
    n = len(values)
    width = max(values.dtype.itemsize, 1)
    data = np.ascontiguousarray(values.astype(f"S{width}")).view(np.uint8).reshape(n, width)
    length = np.where(values == NULL_TEXT, -1, np.count_nonzero(data, axis=1)).astype(np.int32)
    return data, length, True


def _cells(values, kind: str):
    """(data (n, w) uint8, length per row with -1 for NULL, whether NUL bytes of data are padding),
    or an object array of encoded values (resolved by the caller: may hold long values)."""
    if hasattr(values, "cells"):  # a composite column that formats itself (JSON routes)
        return _text(values.cells())
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
        return np.array([NULL_TEXT if v is None else v.encode("utf-8") for v in values], dtype=object)
    return _text(values)


def _value(cell, row: int) -> bytes | None:
    """One cell's bytes as COPY sends them (without the jsonb version byte), None for NULL."""
    if isinstance(cell, np.ndarray) and cell.dtype == object:
        return None if cell[row] == NULL_TEXT else cell[row]
    data, length, padded = cell
    if length[row] < 0:
        return None
    return data[row][data[row] != 0].tobytes() if padded else data[row].tobytes()


def _pack_row(cells: list, row: int, kinds: Sequence[str]) -> bytes:
    """One row the slow way (holds a long object value)."""
    out = [struct.pack(">h", len(cells))]
    for cell, kind in zip(cells, kinds, strict=True):
        value = _value(cell, row)
        if value is None:
            out.append(struct.pack(">i", -1))
            continue
        value = (b"\x01" + value) if kind == "jsonb" else value
        out.append(struct.pack(">i", len(value)) + value)
    return b"".join(out)


def copy_binary(columns: Sequence, kinds: Sequence[str]) -> bytes:
    """Rows of `columns` (equal lengths; `kinds` from `pg_kind`) as binary COPY tuples,
    without the header and trailer (write HEADER once before, TRAILER once after).

    The rows are written side by side into one preallocated byte matrix with a mask of
    the bytes to send (not padding, not a NULL cell's), so a chunk is one boolean index."""
    n = len(columns[0])
    cells = [_cells(values, kind) for values, kind in zip(columns, kinds, strict=True)]
    slow = np.zeros(n, bool)
    for cell in cells:
        if isinstance(cell, np.ndarray):  # object column: long values go the slow way, the rest as S
            slow |= np.fromiter(map(len, cell), np.int64, n) > _LONG
    slow_rows = np.flatnonzero(slow)
    tail = b"".join(_pack_row(cells, row, kinds) for row in slow_rows)
    fast = np.flatnonzero(~slow)
    m = len(fast)
    if m == 0:
        return tail
    for k, cell in enumerate(cells):
        if isinstance(cell, np.ndarray):
            cells[k] = _text(np.array(cell[fast].tolist(), dtype="S"))
        elif m < n:
            data, length, padded = cell
            cells[k] = (data[fast], length[fast], padded)
    jsonb = [kind == "jsonb" for kind in kinds]
    width = 2 + sum(4 + int(version) + data.shape[1] for (data, _, _), version in zip(cells, jsonb, strict=True))
    matrix = np.empty((m, width), np.uint8)
    keep = np.ones((m, width), bool)
    matrix[:, :2] = np.frombuffer(struct.pack(">h", len(cells)), np.uint8)
    at = 2
    for (data, length, padded), version in zip(cells, jsonb, strict=True):
        null = length < 0
        matrix[:, at : at + 4] = (length + (version & ~null)).astype(">i4").view(np.uint8).reshape(m, 4)
        at += 4
        if version:  # jsonb's binary form is a version byte, then the JSON text
            matrix[:, at] = 1
            keep[:, at] = ~null
            at += 1
        w = data.shape[1]
        matrix[:, at : at + w] = data
        if padded:
            np.not_equal(data, 0, out=keep[:, at : at + w])
            keep[null, at : at + w] = False
        elif null.any():
            keep[null, at : at + w] = False
        at += w
    return matrix[keep].tobytes() + tail
