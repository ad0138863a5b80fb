"""The deployable stack: docker-compose.yml and the Dockerfile keep the shape an operator relies on."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
# Services that run once and exit; every other one runs for good.
ONE_SHOT = {"minio-setup"}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return loaded


def test_compose_has_no_version_key_and_pins_every_image() -> None:
    stack = compose()
    assert "version" not in stack
    for name, service in stack["services"].items():
        if "build" in service:
            continue
        image = service["image"]
        tag = image.rsplit(":", 1)[1] if ":" in image.split("/")[-1] else ""
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: {image} is not pinned"


def test_every_service_restarts_waits_for_healthy_dependencies_and_is_checked() -> None:
    for name, service in compose()["services"].items():
        if name in ONE_SHOT:
            continue
        assert service.get("restart") == "unless-stopped", name
        assert "healthcheck" in service or "build" in service, name  # built images carry HEALTHCHECK
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on without conditions"
        for dependency, condition in depends.items():
            expected = "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            assert condition == {"condition": expected}, (name, dependency)


def test_apps_get_time_to_drain_and_trust_only_their_proxy() -> None:
    services = compose()["services"]
    for name in ("app1", "app2"):
        app = services[name]
        assert app["stop_grace_period"] == "10s"
        assert app["environment"]["APP_ENV"] == "production"
        proxy = services["lb"]["networks"]["default"]["ipv4_address"]
        assert app["environment"]["TRUSTED_PROXIES"] == f"{proxy}/32"
        # Each process is scraped on the compose network; the metrics port is published nowhere.
        assert app["environment"]["METRICS_PORT"] == "9100" and "ports" not in app
    # nginx names each request, so its log lines and the app's share a request_id.
    assert "proxy_set_header X-Request-ID $$request_id;" in "\n".join(services["lb"]["command"])


def test_secrets_come_from_the_environment_and_the_console_stays_local() -> None:
    for name, service in compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"SECRET|PASSWORD", key):
                assert str(value).startswith("${"), f"{name}.{key} holds a literal secret"
        for port in service.get("ports", []):
            if "9001" in str(port):
                assert str(port).startswith("127.0.0.1:"), f"{name}: console published beyond this machine"


def compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_compose_file_validates_with_the_docker_client() -> None:
    command = compose_command()
    if command is None:
        pytest.skip("no docker compose client on this machine (docker compose or docker-compose)")
    env = {**os.environ, "JWT_SECRET": "0" * 64, "MINIO_ROOT_PASSWORD": "minio-password-for-config"}
    result = subprocess.run(
        [*command, "-f", str(REPO / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    unset = {k: v for k, v in env.items() if k != "JWT_SECRET"}
    refused = subprocess.run(
        [*command, "-f", str(REPO / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        env=unset,
        cwd=REPO,
    )
    assert refused.returncode != 0 and "JWT_SECRET" in refused.stderr + refused.stdout


def test_the_image_runs_as_a_user_in_production_mode_with_a_healthcheck() -> None:
    lines = [line.strip() for line in (REPO / "Dockerfile").read_text().splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    assert instructions[0].startswith("FROM python:") and instructions[0].endswith("-slim")
    user = next(i for i, line in enumerate(instructions) if line.startswith("USER "))
    assert instructions[user] != "USER root"
    assert user < next(i for i, line in enumerate(instructions) if line.startswith("CMD "))
    assert any(line.startswith("ENV APP_ENV=production") for line in instructions)
    start = next(i for i, line in enumerate(instructions) if line.startswith("HEALTHCHECK"))
    healthcheck = " ".join(instructions[start:])
    assert "/api/health/live" in healthcheck
    # Dependencies install from pyproject.toml alone, before any code is copied into the image.
    first_code = next(i for i, line in enumerate(instructions) if line.startswith("COPY homer_rt"))
    dependencies = next(i for i, line in enumerate(instructions) if "requirements.txt" in line)
    assert dependencies < first_code
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".git", ".venv", "tests"} <= set(ignored)
