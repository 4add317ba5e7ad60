"""One `pulse suite` for the Python client tests, started the way
tests/conformance/lib/suite.js starts it: every listener on port 0, fresh
databases, its own bus namespace and JWT secret, ready once it prints its JSON
ready line. Its stderr goes to a log file whose path is printed on failure.

Environment (same names as the conformance tests):
  PULSE_BIN                    the binary (default target/debug/pulse)
  CONFORMANCE_POSTGRES_URL     server URL without a database
  CONFORMANCE_NATS_URL
  CONFORMANCE_READY_TIMEOUT_MS
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import queue
import secrets
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest

from support import User

ROOT = Path(__file__).resolve().parents[2]
PULSE_BIN = Path(os.environ.get("PULSE_BIN", ROOT / "target" / "debug" / "pulse"))
POSTGRES_URL = os.environ.get("CONFORMANCE_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
NATS_URL = os.environ.get("CONFORMANCE_NATS_URL", "nats://127.0.0.1:4222")
READY_TIMEOUT_S = float(os.environ.get("CONFORMANCE_READY_TIMEOUT_MS", "60000")) / 1000
EXIT_TIMEOUT_S = 15
HUB = "/hubs/shopping-list"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Suite:
    gateway: str
    secret: str
    log_path: str

    @property
    def hub_url(self) -> str:
        return f"{self.gateway}{HUB}"

    def token(self, user: User) -> str:
        """An HS256 JWT for `user` as the gateway expects it (CONTRACT §2)."""
        now = int(time.time())
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = _b64(
            json.dumps(
                {"sub": user.id, "name": user.name, "roles": [], "iat": now, "exp": now + 3600}
            ).encode()
        )
        signature = hmac.new(self.secret.encode(), f"{header}.{claims}".encode(), hashlib.sha256)
        return f"{header}.{claims}.{_b64(signature.digest())}"


def _drop_databases(databases: list[str]) -> None:
    url = urlparse(POSTGRES_URL)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    for database in databases:
        subprocess.run(
            [
                "psql", "-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432),
                "-U", url.username or "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                "-c", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
            ],
            env=env,
            check=True,
            capture_output=True,
        )


@pytest.fixture(scope="session")
def suite():
    if not PULSE_BIN.exists():
        pytest.fail(f"no pulse binary at {PULSE_BIN} (cargo build -p pulse, or set PULSE_BIN)")
    run_id = secrets.token_hex(6)
    databases = [
        f"pulse_py_{run_id}",
        f"pulse_py_lc_{run_id}",
        f"pulse_py_co_{run_id}",
        f"pulse_py_ts_{run_id}",
    ]
    secret = secrets.token_hex(32)
    log = tempfile.NamedTemporaryFile(prefix=f"pulse-python-{run_id}-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [
            str(PULSE_BIN), "suite",
            "--gateway-addr", "127.0.0.1:0",
            "--gateway-grpc-addr", "127.0.0.1:0",
            "--lists-addr", "127.0.0.1:0",
            "--database-url", f"{POSTGRES_URL}/{databases[0]}",
            "--lean-coffee-addr", "127.0.0.1:0",
            "--lean-coffee-database-url", f"{POSTGRES_URL}/{databases[1]}",
            "--coaching-addr", "127.0.0.1:0",
            "--coaching-database-url", f"{POSTGRES_URL}/{databases[2]}",
            "--tasks-addr", "127.0.0.1:0",
            "--tasks-database-url", f"{POSTGRES_URL}/{databases[3]}",
            "--nats-url", NATS_URL,
            "--bus-namespace", f"py_{run_id}",
            "--jwt-secret", secret,
            # signalrcore's stop() waits for one more incoming frame before it
            # returns; a short keep-alive keeps that wait short.
            "--keep-alive-interval", "1s",
        ],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "info")},
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read_stdout() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read_stdout, daemon=True).start()
    ready = None
    deadline = time.monotonic() + READY_TIMEOUT_S
    try:
        while ready is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"pulse printed no ready line within {READY_TIMEOUT_S} s")
            line = lines.get(timeout=remaining)
            if line is None:
                raise RuntimeError(f"pulse exited before it was ready ({process.wait()})")
            try:
                parsed = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(parsed, dict) and parsed.get("ready") is True:
                ready = parsed
    except (RuntimeError, queue.Empty) as error:
        process.kill()
        process.wait()
        _drop_databases(databases)
        pytest.fail(f"{error}; log {log.name}")

    yield Suite(gateway=ready["gateway"], secret=secret, log_path=log.name)

    process.terminate()
    try:
        process.wait(EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"pulse did not exit within {EXIT_TIMEOUT_S} s of SIGTERM (log {log.name})")
    finally:
        _drop_databases(databases)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Points at the pulse log when a test fails."""
    outcome = yield
    report = outcome.get_result()
    suite_fixture = item.funcargs.get("suite") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(suite_fixture, Suite):
        report.sections.append(("pulse log", suite_fixture.log_path))
