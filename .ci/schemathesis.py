"""schemathesis against a running server: every operation of /api/openapi.json, as the callers it serves.

    .venv/bin/python .ci/schemathesis.py [extra schemathesis run options, e.g. --include-tag auth]

Starts ``homer-rt serve --demo`` on the embedded store (demo owners and renters, and an admin from
ADMIN_EMAIL/ADMIN_PHONE/ADMIN_PASSWORD) on a free loopback port, waits until it is ready, and runs
schemathesis with .ci/schemathesis_hooks.py, which signs each request in as the operation's caller. Checks:
no server errors, only documented statuses, response bodies and content types as documented. Bounded:
SCHEMATHESIS_MAX_EXAMPLES per operation (default 25) and SCHEMATHESIS_MAX_TIME seconds in all (default 240).
Exits with schemathesis' status; the server's log is printed when it fails. The last line counts the
operations tested: ``schemathesis: N passed, N failed``.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance"
ADMIN_EMAIL = "schemathesis-admin@example.com"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_ready(url: str, server: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with status {server.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"{url}/api/health/ready", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server was not ready after {seconds:.0f} s")


def main(extra: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    from homer_rt.demo import DEMO_OWNERS, DEMO_PASSWORD, DEMO_RENTERS

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    metrics_token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="homer-schemathesis-") as work:
        env = {
            **os.environ,
            "APP_ENV": "development",
            "MONGODB_URL": "",  # the embedded store
            "REDIS_URL": "",
            "JWT_SECRET": secrets.token_hex(32),
            "BCRYPT_ROUNDS": "4",
            "UPLOAD_DIR": str(Path(work) / "uploads"),
            "ADMIN_EMAIL": ADMIN_EMAIL,
            "ADMIN_PHONE": "+919811100000",
            "ADMIN_PASSWORD": DEMO_PASSWORD,
            "METRICS_TOKEN": metrics_token,
            # Each request signs in afresh, from one address, beside generated logins that fail.
            "LOGIN_ATTEMPTS_PER_ACCOUNT_AND_ADDRESS": "1000000",
            "LOGIN_ATTEMPTS_PER_ACCOUNT": "1000000",
            "LOGIN_ATTEMPTS_PER_ADDRESS": "1000000",
            "REGISTRATIONS_PER_ADDRESS_PER_HOUR": "1000000",
            "REGISTRATIONS_PER_MINUTE": "1000000",
            "UPLOADS_PER_USER_PER_HOUR": "1000000",
            "LOG_LEVEL": "WARNING",
        }
        log_path = Path(work) / "server.log"
        junit_path = Path(work) / "junit.xml"
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [str(BIN / "homer-rt"), "serve", "--demo", "--properties", "20", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_ready(url, server)
            run_env = {
                **os.environ,
                "SCHEMATHESIS_HOOKS": str(ROOT / ".ci" / "schemathesis_hooks.py"),
                "HOMER_SCHEMATHESIS_URL": url,
                "HOMER_SCHEMATHESIS_ADMIN_EMAIL": ADMIN_EMAIL,
                "HOMER_SCHEMATHESIS_OWNER_EMAIL": DEMO_OWNERS[0].email,
                "HOMER_SCHEMATHESIS_RENTER_EMAIL": DEMO_RENTERS[0].email,
                "HOMER_SCHEMATHESIS_PASSWORD": DEMO_PASSWORD,
                "HOMER_SCHEMATHESIS_METRICS_TOKEN": metrics_token,
            }
            command = [
                str(BIN / "schemathesis"),
                "run",
                f"{url}/api/openapi.json",
                "--checks",
                CHECKS,
                "--max-examples",
                os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"),
                "--max-time",
                os.environ.get("SCHEMATHESIS_MAX_TIME", "240"),
                "--request-timeout",
                "30",
                "--seed",
                os.environ.get("SCHEMATHESIS_SEED", "16"),
                "--no-color",
                "--report",
                "junit",
                "--report-junit-path",
                str(junit_path),
                *extra,
            ]
            print("$", " ".join(command), flush=True)
            # In the scratch folder: schemathesis keeps its caches (.schemathesis, .hypothesis) where it runs.
            status = subprocess.run(command, cwd=work, env=run_env, check=False).returncode
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if status != 0:
            print("--- server log (last 200 lines) ---")
            print("\n".join(log_path.read_text(errors="replace").splitlines()[-200:]))
        print_counts(junit_path, status)
        return status


def print_counts(junit_path: Path, status: int) -> None:
    """One operation is one test case of schemathesis' JUnit report."""
    if not junit_path.exists():
        print(f"schemathesis: 0 passed, {1 if status else 0} failed")
        return
    suites = ElementTree.parse(junit_path).getroot()
    tests, failures, errors, skipped = (
        int(suites.get(name, "0")) for name in ("tests", "failures", "errors", "skipped")
    )
    failed = failures + errors
    print(f"schemathesis: {tests - failed - skipped} passed, {failed} failed, {skipped} skipped")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
