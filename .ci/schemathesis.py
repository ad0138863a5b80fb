"""schemathesis against a running server: every operation of /api/openapi.json, as the callers it serves.

    .venv/bin/python .ci/schemathesis.py [extra schemathesis run options, e.g. --include-tag auth]

Starts ``homer-rt serve --demo`` on the embedded store (demo owners and renters, and an admin from
ADMIN_EMAIL/ADMIN_PHONE/ADMIN_PASSWORD) on a free loopback port and waits until it is ready. Then, as the
frontend would, it gives the run something to work on: the renter starts a chat about the owner's listing
and reports it, submits a renter verification, and the owner pays a listing's verification fee and submits
it, so there are chats, notifications, a report, a transaction and pending verifications. The ids of
those and of the demo's listings, chats and users go to .ci/schemathesis_hooks.py, which offers them beside
generated values (a random id only ever meets a 404) and signs each request in as the operation's caller.

Checks: no server errors, only documented statuses, response bodies and content types as documented.
Bounded: schemathesis spends SCHEMATHESIS_MAX_TIME seconds (default 180): one pass over every operation
(examples, coverage, then SCHEMATHESIS_MAX_EXAMPLES generated cases each, default 25, and stateful
sequences along the document's links), then more fuzzing and stateful passes until the time is spent.
Exits with schemathesis' status; the server's log is printed when it fails. The last line gives the
figures: ``schemathesis: N operations, N cases, N failures, N errors in N s``.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from samples import PDF, PNG  # .ci/samples.py: this script's folder is the first on sys.path

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
            if requests.get(f"{url}/api/health/ready", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server was not ready after {seconds:.0f} s")


class Caller:
    """One signed-in account of the demo, calling the API as the frontend does."""

    def __init__(self, url: str, email: str, password: str) -> None:
        self.url = url
        response = requests.post(
            f"{url}/api/auth/login", json={"email": email, "password": password}, timeout=30
        )
        response.raise_for_status()
        self.headers = {"Authorization": f"Bearer {response.json()['token']}"}

    def call(self, method: str, path: str, **options: Any) -> Any:
        response = requests.request(method, f"{self.url}{path}", headers=self.headers, timeout=30, **options)
        if response.status_code >= 400:
            raise SystemExit(
                f"preparing the run: {method} {path} answered {response.status_code}: {response.text}"
            )
        return response.json()

    def upload_document(self, document_type: str) -> str:
        form = {"document": ("id.pdf", PDF, "application/pdf")}
        uploaded = self.call(
            "POST", "/api/verification/upload-document", files=form, data={"document_type": document_type}
        )
        url: str = uploaded["data"]["file_url"]
        return url


def prepare(url: str, *, admin: Caller, owner: Caller, renter: Caller) -> dict[str, list[str]]:
    """Makes the records the operations act on (the module's doc) and answers the ids to offer, by the
    name of the path parameter, query parameter or body field that takes them."""
    listings = [item["property_id"] for item in owner.call("GET", "/api/properties/my-properties")]
    if not listings:
        raise SystemExit("preparing the run: the demo owner has no listings")
    chat = renter.call(
        "POST", "/api/chats/initiate", json={"property_id": listings[0], "initial_message": "Is it free?"}
    )
    renter.call("POST", f"/api/chats/{chat['chat_id']}/messages", json={"message": "From next month"})
    renter.call(
        "POST", f"/api/chats/{chat['chat_id']}/report", json={"reason": "Asked for a deposit in cash"}
    )
    documents = [renter.upload_document("id_proof"), owner.upload_document("ownership")]
    renter.call(
        "POST",
        "/api/verification/renter/submit",
        json={
            "documents": {"id_proof": {"file_url": documents[0]}},
            "employment_details": {
                "company_name": "Acme",
                "employment_type": "salaried",
                "annual_income": 900000,
            },
        },
    )
    # A new listing of the owner's (the demo's are verified): an image, its verification fee paid, submitted.
    listing = {
        "title": "Schemathesis 2BHK",
        "property_type": "apartment",
        "bhk_type": "2BHK",
        "rent": 25000,
        "location": {"address": "1, Test Road", "city": "Pune"},
    }
    new_listing = owner.call("POST", "/api/properties/create", json=listing)["property_id"]
    listings.append(new_listing)
    images = owner.call(
        "POST",
        f"/api/properties/{new_listing}/upload-images",
        files=[("files", ("front.png", PNG, "image/png"))],
    )["image_urls"]
    order = owner.call(
        "POST",
        "/api/payments/create-order",
        json={"type": "property_verification", "metadata": {"property_id": new_listing}},
    )
    owner.call(
        "POST", "/api/payments/verify", json={"order_id": order["order_id"], "payment_id": "pay_schemathesis"}
    )
    owner.call(
        "POST",
        "/api/verification/property/submit",
        json={
            "property_id": new_listing,
            "documents": {"ownership": {"file_url": documents[1]}},
        },
    )
    public = requests.get(f"{url}/api/properties/search", params={"limit": 10}, timeout=30).json()[
        "properties"
    ]
    users = [user["user_id"] for user in admin.call("GET", "/api/admin/users", params={"limit": 20})["users"]]
    properties = listings + [item["property_id"] for item in public]
    return {
        "property_id": properties,
        "chat_id": [
            item["chat_id"] for caller in (owner, renter) for item in caller.call("GET", "/api/chats")
        ],
        "notification_id": [
            item["notification_id"]
            for caller in (owner, renter)
            for item in caller.call("GET", "/api/notifications")["notifications"]
        ],
        "user_id": users,
        "entity_id": users + properties,
        "report_id": [item["report_id"] for item in admin.call("GET", "/api/admin/reports")["reports"]],
        "transaction_id": [
            item["transaction_id"] for item in admin.call("GET", "/api/admin/transactions")["transactions"]
        ],
        "order_id": [order["order_id"]],
        "verification_id": [
            item["verification_id"] for item in admin.call("GET", "/api/verification/admin/pending")
        ],
        "image_url": images,
        "file_url": documents,
        "upload_url": images + documents,
    }


def print_figures(report_path: Path, status: int, seconds: float) -> None:
    """The run's figures from schemathesis' JSON report: operations tested, cases generated, failures."""
    if not report_path.exists():
        print(f"schemathesis: no report (status {status}) after {seconds:.0f} s")
        return
    report = json.loads(report_path.read_text())
    operations, cases = report["operations"], report["test_cases"]
    print(
        f"schemathesis: {operations['tested']} of {operations['total']} operations, "
        f"{cases['generated']} cases, {cases['unique_failures']} failures, {len(report['errors'])} errors "
        f"in {seconds:.0f} s (schemathesis {report['running_time']:.0f} s)"
    )


def main(extra: list[str]) -> int:
    started = time.monotonic()
    sys.path.insert(0, str(ROOT))
    from homer_rt.demo import DEMO_OWNERS, DEMO_PASSWORD, DEMO_RENTERS

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    metrics_token = secrets.token_hex(16)
    accounts = {"admin": ADMIN_EMAIL, "owner": DEMO_OWNERS[0].email, "renter": DEMO_RENTERS[0].email}
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
            # The webhook checks its signature (a 400 for generated bodies) instead of a 503 "not configured".
            "RAZORPAY_WEBHOOK_SECRET": secrets.token_hex(16),
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
        report_path = Path(work) / "report.json"
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
            callers = {role: Caller(url, email, DEMO_PASSWORD) for role, email in accounts.items()}
            known = prepare(url, **callers)
            print(
                "offered ids: " + ", ".join(f"{name} {len(ids)}" for name, ids in known.items()), flush=True
            )
            run_env = {
                **os.environ,
                "SCHEMATHESIS_HOOKS": str(ROOT / ".ci" / "schemathesis_hooks.py"),
                "HOMER_SCHEMATHESIS_URL": url,
                **{f"HOMER_SCHEMATHESIS_{role.upper()}_EMAIL": email for role, email in accounts.items()},
                "HOMER_SCHEMATHESIS_PASSWORD": DEMO_PASSWORD,
                "HOMER_SCHEMATHESIS_METRICS_TOKEN": metrics_token,
                "HOMER_SCHEMATHESIS_KNOWN_IDS": json.dumps(known),
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
                os.environ.get("SCHEMATHESIS_MAX_TIME", "180"),
                "--request-timeout",
                "30",
                "--seed",
                os.environ.get("SCHEMATHESIS_SEED", "16"),
                "--no-color",
                "--report",
                "json",
                "--report-json-path",
                str(report_path),
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
        print_figures(report_path, status, time.monotonic() - started)
        return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
