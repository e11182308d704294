r"""Latent Lab as identical replicas behind nginx, sharing one PostgreSQL class store.

Starts ``--replicas`` ``streamlit run app.py`` processes on loopback ports and nginx on
``--port`` in front of them (config: ``deploy/nginx.conf.template``, sticky sessions by cookie).
Every replica gets the same ``LATENTLAB_DATABASE_URL`` (classes, students, clicks) and the same
``LATENTLAB_USER_DIR`` (models trained on any replica appear on all); each keeps its own
state and map-cache folders and its own training jobs. Shipped checkpoints and their maps are
read-only files of the checkout, shared as they are.

Usage (see deploy/README.md)::

    python deploy/stack.py --database-url postgresql://user:pw@127.0.0.1:5432/latentlab \
        --replicas 2 --port 8080 --user-dir /srv/latentlab/user

It runs until Ctrl-C (or SIGTERM), then stops nginx and the replicas. ``tests/test_replicas.py``
drives the same :class:`Stack` (kill a replica, restart it).
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("nginx.conf.template")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def render_nginx(listen: str, replica_ports: list[int], run_dir: Path) -> str:
    """The nginx config: ``listen`` (e.g. ``127.0.0.1:8080`` or ``80``) in front of the
    replicas on ``127.0.0.1:<port>``; pid, logs and temp files under ``run_dir``; the classes'
    state files served from this checkout's ``static/live`` (the replicas run from it)."""
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;"
                        for p in replica_ports)
    return (TEMPLATE.read_text().replace("@RUN@", str(run_dir))
            .replace("@SERVERS@", servers).replace("@LISTEN@", listen)
            .replace("@STATIC_LIVE@", str(ROOT / "static" / "live")))


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout_s: float = 60.0) -> None:
    t_end = time.monotonic() + timeout_s
    while time.monotonic() < t_end:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout_s:.0f} s: {log.read_text()[-2000:]}")


class Stack:
    """``n`` Streamlit replicas and nginx in front of them (a context manager).

    Parameters
    ----------
    database_url : str
        ``postgresql://…`` shared by every replica.
    n : int
        Number of replicas (>= 1).
    port : int, optional
        nginx's port on 127.0.0.1 (a free one when None).
    user_dir : Path, optional
        The shared folder of user-trained models (``run_dir/user`` when None).
    run_dir : Path, optional
        Logs, nginx files and per-replica state (a new temporary folder when None).

    Raises
    ------
    RuntimeError
        If nginx is missing or a process does not start.
    """

    def __init__(self, database_url: str, n: int = 2, port: int | None = None,
                 user_dir: Path | None = None, run_dir: Path | None = None):
        if shutil.which("nginx") is None:
            raise RuntimeError("nginx is not installed (Debian: apt-get install nginx)")
        self.database_url, self.n = database_url, n
        self.run_dir = Path(run_dir or tempfile.mkdtemp(prefix="latentlab-stack-"))
        self.user_dir = Path(user_dir or self.run_dir / "user")
        self.port = port or free_port()
        self.replica_ports = [free_port() for _ in range(n)]
        self.cookie_secret = secrets.token_hex(16)  # one secret: any replica accepts a cookie
        self.replicas: list[subprocess.Popen | None] = [None] * n
        self.nginx: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The balancer's URL (what students open)."""
        return f"http://127.0.0.1:{self.port}"

    def replica_url(self, i: int) -> str:
        """Replica ``i``'s own URL (bypassing nginx)."""
        return f"http://127.0.0.1:{self.replica_ports[i]}"

    def start_replica(self, i: int) -> None:
        """Start (or restart) replica ``i`` and wait until it answers its health check."""
        d = self.run_dir / f"replica-{i}"
        d.mkdir(parents=True, exist_ok=True)
        self.user_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, LATENTLAB_DATABASE_URL=self.database_url,
                   LATENTLAB_USER_DIR=str(self.user_dir), LATENTLAB_STATE_DIR=str(d / "state"),
                   LATENTLAB_CACHE_DIR=str(d / "cache"), LATENTLAB_BEHIND_PROXY="1",
                   STREAMLIT_SERVER_COOKIE_SECRET=self.cookie_secret)
        log = d / "server.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port",
             str(self.replica_ports[i]), "--server.address", "127.0.0.1",
             "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT)
        self.replicas[i] = proc
        _wait_http(self.replica_url(i) + "/_stcore/health", proc, log)

    def kill_replica(self, i: int) -> None:
        """SIGKILL replica ``i`` (a crash: no shutdown code runs) and reap it."""
        proc = self.replicas[i]
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        self.replicas[i] = None

    def __enter__(self) -> Stack:
        try:
            for i in range(self.n):
                self.start_replica(i)
            conf = self.run_dir / "nginx.conf"
            conf.write_text(render_nginx(f"127.0.0.1:{self.port}", self.replica_ports,
                                         self.run_dir))
            log = self.run_dir / "nginx.log"
            self.nginx = subprocess.Popen(
                ["nginx", "-p", str(self.run_dir), "-c", str(conf), "-g", "daemon off;"],
                stdout=log.open("a"), stderr=subprocess.STDOUT)
            _wait_http(self.url + "/_stcore/health", self.nginx, log)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.terminate()
            self.nginx.wait(10)
        for i, proc in enumerate(self.replicas):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.kill_replica(i)


def main() -> None:
    """Command line: start the stack and keep it up until Ctrl-C / SIGTERM."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default=os.environ.get("LATENTLAB_DATABASE_URL"),
                   help="postgresql://… (default: $LATENTLAB_DATABASE_URL)")
    p.add_argument("--replicas", type=int, default=2)
    p.add_argument("--port", type=int, default=8080, help="nginx's port on 127.0.0.1")
    p.add_argument("--user-dir", type=Path, help="shared folder of user-trained models")
    p.add_argument("--run-dir", type=Path, help="logs, nginx files, per-replica state")
    args = p.parse_args()
    if not args.database_url or not args.database_url.startswith(("postgresql://",
                                                                   "postgres://")):
        p.error("--database-url postgresql://… (or LATENTLAB_DATABASE_URL) is required")
    if args.replicas < 1:
        p.error("--replicas must be at least 1")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with Stack(args.database_url, args.replicas, args.port, args.user_dir, args.run_dir) as s:
        print(f"Latent Lab: {s.url}  (replicas: "
              f"{', '.join(s.replica_url(i) for i in range(s.n))}; logs in {s.run_dir})",
              flush=True)
        try:
            while all(r is not None and r.poll() is None for r in s.replicas):
                time.sleep(1)
            print("a replica exited; stopping", file=sys.stderr)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
