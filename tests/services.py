"""Real services for the tests, started by the tests themselves and thrown away after.

* :func:`postgres` — a PostgreSQL server of this machine's installation
  (``/usr/lib/postgresql/<version>/bin``): ``initdb`` in a temporary folder, then
  ``pg_ctl start`` on 127.0.0.1 and a free port (as the ``postgres`` user when
  we are root: PostgreSQL refuses to run as root). Trust authentication, fsync off.
* :func:`dask_cluster` — ``dask scheduler`` and N ``dask worker`` processes
  (``--nworkers 1 --nthreads 1``, no dashboard) on 127.0.0.1.

Both are context managers; ``pg_server`` and ``dask_scheduler`` are the pytest
fixtures (session scope) that skip, saying why, when the binaries are missing.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port, proc, seconds, what, log):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n"
                               f"{Path(log).read_text(errors='replace')[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not listen on port {port} within {seconds} s")


def wait_for_http(url, proc, seconds, what, log):
    """Wait until ``url`` answers 200; fail, with the end of ``log``, if ``proc`` exits first or
    ``seconds`` pass."""
    import urllib.request

    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{what} did not start:\n{Path(log).read_text(errors='replace')[-4000:]}")
        time.sleep(0.5)


# --------------------------------------------------------------------------- PostgreSQL


def postgres_bin():
    """The folder holding ``initdb`` and ``pg_ctl`` (the newest installed version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: [int(x) for x in Path(p).parts[-3].split(".") if x.isdigit()])
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


@contextlib.contextmanager
def postgres():
    """Start a throw-away PostgreSQL server; yields its base URL
    ``postgresql://postgres@127.0.0.1:PORT`` (append ``/DBNAME``)."""
    bindir = postgres_bin()
    if bindir is None:
        raise FileNotFoundError("no PostgreSQL binaries (initdb, pg_ctl)")
    base = Path(tempfile.mkdtemp(prefix="regloss-pg-"))
    as_user = []
    if os.geteuid() == 0:
        shutil.chown(base, user="postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, log, port = base / "data", base / "server.log", free_port()
    try:
        subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                        "-E", "UTF8", "--no-sync"], check=True, capture_output=True, cwd=base)
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                        "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
                              "-c max_connections=100", "start"],
                       check=True, capture_output=True, cwd=base)
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, cwd=base)
        shutil.rmtree(base, ignore_errors=True)


def create_database(base_url, name):
    """Create database ``name`` on the server at ``base_url``; returns its URL."""
    import psycopg

    with psycopg.connect(base_url + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base_url}/{name}"


@pytest.fixture(scope="session")
def pg_server():
    """The base URL of a throw-away PostgreSQL server (skips when PostgreSQL is not installed)."""
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (no initdb/pg_ctl under /usr/lib/postgresql/*/bin "
                    "or on PATH): apt-get install postgresql")
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user to run the server as")
    with postgres() as url:
        yield url


# --------------------------------------------------------------------------- Dask


def dask_command():
    """How to run the ``dask`` command of this interpreter's environment."""
    exe = Path(sys.executable).parent / "dask"
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "distributed.cli.dask_spec"]


@contextlib.contextmanager
def dask_cluster(n_workers=2, env=None, worker_env=None):
    """Start ``dask scheduler`` and ``n_workers`` ``dask worker`` processes on
    127.0.0.1 (named ``w0``, ``w1``, ...); yields the scheduler's address
    ``tcp://127.0.0.1:PORT``. ``env`` is added to every process's environment,
    ``worker_env[i]`` to worker i's."""
    from distributed import Client

    base = Path(tempfile.mkdtemp(prefix="regloss-dask-"))
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, **(env or {}))
    procs = []

    def start(args, name, extra=None):
        log = open(base / f"{name}.log", "wb")
        p = subprocess.Popen([*dask_command(), *args], stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, cwd=base, env=dict(env, **(extra or {})),
                             start_new_session=True)
        procs.append(p)
        return p, base / f"{name}.log"

    try:
        p, log = start(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], "scheduler")
        _wait_port(port, p, 60, "dask scheduler", log)
        for i in range(n_workers):
            start(["worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                   "--host", "127.0.0.1", "--local-directory", str(base / f"w{i}"), "--name", f"w{i}"], f"worker{i}",
                  (worker_env or {}).get(i))
        with Client(address, timeout=60) as client:
            client.wait_for_workers(n_workers, timeout=120)
        yield address
    finally:
        for p in reversed(procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def dask_scheduler():
    """The address of a real two-worker Dask cluster on loopback."""
    with dask_cluster(2) as address:
        yield address
