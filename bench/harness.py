"""What every benchmark stands on: server processes pinned to one core, the load generator pinned to the
other, reading a process's CPU and memory from /proc, and the shared main that runs a case.

Only 127.0.0.1 traffic; every wait is bounded. A benchmark reports its figures; its exit status is non-zero
only when the harness itself failed (a server did not start, setup was refused): HarnessError.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
SERVER_CORE = 0
LOADGEN_CORE = 1
UNLIMITED = str(10**9)

# The benchmarks measure delivery and the store, not the abuse limits: every client here is 127.0.0.1.
NO_ABUSE_LIMITS = {
    "CHAT_SEND_RATE_PER_10S": UNLIMITED,
    "LOGIN_ATTEMPTS_PER_ACCOUNT_AND_ADDRESS": UNLIMITED,
    "LOGIN_ATTEMPTS_PER_ACCOUNT": UNLIMITED,
    "LOGIN_ATTEMPTS_PER_ADDRESS": UNLIMITED,
    "REGISTRATIONS_PER_ADDRESS_PER_HOUR": UNLIMITED,
    "REGISTRATIONS_PER_MINUTE": UNLIMITED,
    "SOCKET_CONNECTIONS_PER_USER": UNLIMITED,
    "SOCKET_CONNECTIONS_PER_ADDRESS": UNLIMITED,
    "FREE_CONTACT_LIMIT": "1000",
}


class HarnessError(Exception):
    """The benchmark could not measure (a server did not start, setup failed): exit non-zero."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pin(core: int) -> None:
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {core})


def cpu_ticks(core: int) -> tuple[int, int]:
    """(steal, total) jiffies of one core from /proc/stat; (0, 0) where there is none.

    On a virtual machine the hypervisor can take a core away ("steal"). Latency tails measured during a
    steal burst say more about the host than about the server, so fixed-load runs report it.
    """
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/stat").read_text().splitlines():
            name, *values = line.split()
            if name == f"cpu{core}":
                ticks = [int(v) for v in values[:8]]
                return ticks[7], sum(ticks)
    return 0, 0


def steal_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total > 0 else 0.0


def raise_open_files_limit(needed: int) -> None:
    """Thousands of idle clients need as many sockets in this process."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, soft)), hard))


@contextlib.contextmanager
def generator_gc_paused() -> Iterator[None]:
    """No garbage collection in the load generator while it measures. Its bookkeeping (every key sent,
    acked and delivered) grows through a run, and a full collection of it stopped this process for ~40 ms:
    the messages in flight then looked 20-40 ms late, and that run's p99 with them, whichever server it
    measured. Collected once before and after instead; a window's cyclic garbage is a few MB."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


# --------------------------------------------------------------------------------------------- figures


def percentile(values: Sequence[float], share: float) -> float:
    """The value at ``share`` (0.99 for p99) of the sorted values, NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def ratio_of_medians(values: Sequence[float], baseline: Sequence[float]) -> float | None:
    """median(values) / median(baseline): the figure every table reports against its in-run baseline."""
    base = statistics.median(baseline) if baseline else 0.0
    return statistics.median(values) / base if base else None


def at_most(limit: float) -> Callable[[float], bool]:
    return lambda value: value <= limit


def at_least(limit: float) -> Callable[[float], bool]:
    return lambda value: value >= limit


def machine() -> str:
    model = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("aiohttp", "python-socketio", "python-engineio")
    )
    return (
        f"{os.cpu_count()} cpus ({model}), Python {platform.python_version()}, {versions}; "
        f"servers on core {SERVER_CORE}, load generator on core {LOADGEN_CORE}"
    )


# --------------------------------------------------------------------------------------------- servers


def homer_environment(workdir: Path, *, bcrypt_rounds: int = 4, **settings: str) -> dict[str, str]:
    """The environment of a measured ``homer-rt serve``: this one without a store or Redis of its own,
    development mode, uploads in ``workdir``, no abuse limits, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if k not in {"MONGODB_URL", "REDIS_URL"}}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        APP_ENV="development",
        BCRYPT_ROUNDS=str(bcrypt_rounds),
        UPLOAD_DIR=str(workdir / "uploads"),
        **NO_ABUSE_LIMITS,
    )
    env.update(settings)
    return env


def homer_serve_argv(port: int, *, launcher: Sequence[str] = ("-m", "homer_rt")) -> list[str]:
    return [sys.executable, *launcher, "serve", "--host", "127.0.0.1", "--port", str(port)]


class ServerProcess:
    """One server process on 127.0.0.1, pinned to SERVER_CORE, its output in ``workdir``; its RSS and CPU
    time are read from /proc."""

    def __init__(
        self, argv: Sequence[str], *, port: int, workdir: Path, env: Mapping[str, str], log_name: str
    ) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = workdir / log_name
        self._log = self.log_path.open("wb")
        self.spawned = time.perf_counter()
        # cwd is the scratch dir so a developer's .env never configures the measured server.
        self.proc = subprocess.Popen(
            list(argv),
            cwd=workdir,
            env=dict(env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: pin(SERVER_CORE),
        )

    def tail(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-2000:]

    async def wait_listening(self, within: float = 60.0) -> None:
        """Until the port accepts a connection."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError(f"server exited with {self.proc.returncode}: {self.tail()}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise HarnessError(f"server did not listen within {within:.0f}s: {self.tail()}")

    async def wait_answering(self, http: aiohttp.ClientSession, within: float = 300.0) -> float:
        """Until ``GET /`` answers 200; seconds from spawning the process (its start time)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError(f"server exited with {self.proc.returncode}: {self.tail()}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with http.get(f"{self.base}/") as response:
                    if response.status == 200:
                        return time.perf_counter() - self.spawned
            await asyncio.sleep(0.02)
        raise HarnessError(f"server did not answer within {within:.0f}s: {self.tail()}")

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise HarnessError("no VmRSS in /proc")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def terminate(self, within: float = 300.0) -> float:
        """SIGTERM; seconds until the process exited (killed after ``within``)."""
        started = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + within
        while self.proc.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        took = time.perf_counter() - started
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            raise HarnessError(f"server did not exit within {within:.0f}s of SIGTERM")
        self._log.close()
        return took

    async def stop(self) -> None:
        """SIGINT, killed if it has not exited within 5 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            for _ in range(50):
                if self.proc.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            else:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


@dataclass(frozen=True)
class ServerKind:
    """``homer`` or ``relay``, optionally with a variant: ``:deflate`` / ``:nodeflate`` force
    permessage-deflate on / off (to show what the compression decision alone is worth). Without one, each
    server keeps its own default: Homer declines, the relay (the library's default) accepts."""

    name: str

    @property
    def kind(self) -> str:
        return self.name.partition(":")[0]

    @property
    def deflate(self) -> bool | None:
        variant = self.name.partition(":")[2]
        return {"deflate": True, "nodeflate": False}[variant] if variant else None


class Server(ServerProcess):
    """A server the chat cases measure: Homer (``homer-rt serve``, on the embedded store unless
    ``mongodb_url`` gives it a fresh database of its own, dropped when it stops) or the relay."""

    def __init__(
        self,
        name: str,
        workdir: Path,
        *,
        bcrypt_rounds: int = 4,
        mongodb_url: str | None = None,
        run_tag: str = "",
    ) -> None:
        server = ServerKind(name)
        self.name, self.kind = name, server.kind
        port = free_port()
        self.mongodb_url = mongodb_url if server.kind == "homer" else None
        self.database = f"homer_bench_{run_tag}_{port}" if self.mongodb_url else None
        log_name = f"{server.kind}-{name.partition(':')[2] or 'default'}-{port}.log"
        if server.kind == "homer":
            settings: dict[str, str] = {}
            if self.mongodb_url and self.database:
                settings.update(MONGODB_URL=self.mongodb_url, MONGODB_DB=self.database)
            if server.deflate is not None:
                settings["SOCKETIO_WEBSOCKET_COMPRESSION"] = "true" if server.deflate else "false"
            env = homer_environment(workdir, bcrypt_rounds=bcrypt_rounds, **settings)
            argv = homer_serve_argv(port)
        else:
            env = {k: v for k, v in os.environ.items() if k not in {"MONGODB_URL", "REDIS_URL"}}
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
            argv = [sys.executable, "-m", "bench.relay", "--port", str(port)]
            if server.deflate is False:
                argv.append("--no-deflate")
        super().__init__(argv, port=port, workdir=workdir, env=env, log_name=log_name)

    async def stop(self) -> None:
        await super().stop()
        if self.database:
            from pymongo import MongoClient

            client: MongoClient[dict[str, Any]] = MongoClient(self.mongodb_url)
            try:
                await asyncio.to_thread(client.drop_database, self.database)
            except Exception as error:  # cleanup must not hide why the run failed
                log(f"could not drop {self.database}: {error}")
            finally:
                client.close()


@contextlib.asynccontextmanager
async def running(name: str, workdir: Path, **options: Any) -> AsyncIterator[Server]:
    server = Server(name, workdir, **options)
    try:
        await server.wait_listening()
        yield server
    finally:
        await server.stop()


# --------------------------------------------------------------------------------------------- main


def run_on_loadgen_core(measure: Coroutine[Any, Any, int]) -> int:
    """Run a benchmark's main coroutine on the load generator's core: its exit status, or 2 with the reason
    on stderr when the harness failed or the run crashed (shared by every case)."""
    pin(LOADGEN_CORE)
    try:
        return asyncio.run(measure)
    except HarnessError as error:
        print(f"harness error: {error}", file=sys.stderr)
        return 2
    except Exception:
        traceback.print_exc()
        return 2
