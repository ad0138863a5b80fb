"""Real ``homer-rt serve`` processes, for the tests that need more than the in-process test server: several
processes sharing Redis, a restart, a SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.factories import TEST_JWT_SECRET

REPO = Path(__file__).resolve().parent.parent
# The real Redis of the multi-process tests (their own db number; each test uses its own key prefix).
REDIS_URL = os.environ.get("HOMER_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    async def wait_ready(self, session: aiohttp.ClientSession) -> None:
        """Until the server answers its health check (it listens once started)."""
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT
        while asyncio.get_running_loop().time() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited early:\n{self.tail()}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{self.url}/api/health") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
        raise AssertionError(f"server at {self.url} did not start:\n{self.tail()}")

    async def wait_exit(self) -> int:
        """Until the process has exited (it was told to stop); its exit status."""
        deadline = asyncio.get_running_loop().time() + STOP_TIMEOUT
        while self.process.poll() is None:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"server did not exit within {STOP_TIMEOUT:g} s:\n{self.tail()}")
            await asyncio.sleep(0.05)
        return self.process.returncode


@contextlib.contextmanager
def server_process(
    port: int, workdir: Path, *, env: dict[str, str], args: Sequence[str] = (), name: str = ""
) -> Iterator[ServerProcess]:
    """``homer-rt serve`` on 127.0.0.1:``port`` in ``workdir`` (so no developer's .env configures it), with
    a test JWT secret and no store, Redis or payment settings from the environment other than ``env``'s.
    Its output goes to ``server-<port><name>.log`` in ``workdir``; it is stopped (killed if it must) on
    exit."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MONGODB_", "REDIS_", "EMBEDDED_", "RAZORPAY_", "ADMIN_"))
    }
    environment.update(
        {
            "APP_ENV": "test",
            "JWT_SECRET": TEST_JWT_SECRET,
            "BCRYPT_ROUNDS": "4",
            "SOCKETIO_PING_INTERVAL": "1",
            "SOCKETIO_PING_TIMEOUT": "2",
            "UPLOAD_DIR": str(workdir / f"uploads-{port}"),
            "PYTHONPATH": str(REPO),
        }
    )
    environment.update(env)
    log_path = workdir / f"server-{port}{name}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "homer_rt", "serve", *args, "--port", str(port), "--host", "127.0.0.1"],
        cwd=workdir,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield ServerProcess(process=process, url=f"http://127.0.0.1:{port}", log=log_path)
    finally:
        stop_process(process)
        log.close()


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
