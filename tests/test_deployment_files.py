"""The Docker image and compose file a school board's IT deploys: valid and as promised."""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parents[1]
COMPOSE = ROOT / "docker" / "compose.yaml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"


def _compose_cli() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_docker_compose_accepts_the_compose_file() -> None:
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no docker compose CLI on this machine; the structure is checked below")
    env = {**os.environ, "POSTGRES_PASSWORD": "example"}
    result = subprocess.run(
        [*cli, "-f", str(COMPOSE), "config", "-q"], env=env, capture_output=True, check=False
    )
    assert result.returncode == 0, result.stderr.decode()


def test_the_compose_file_runs_the_service_on_postgresql_16_with_a_volume_and_healthchecks() -> (
    None
):
    compose: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    db, app = compose["services"]["db"], compose["services"]["app"]
    assert db["image"] == "postgres:16"
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"], "the database keeps its data in a named volume"
    assert db["healthcheck"]["test"]
    assert app["healthcheck"]["test"]
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    url = app["environment"]["ADVIESTRAJECT_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://"), "PostgreSQL goes through psycopg 3"
    assert (ROOT / "docker" / Path(app["build"]["context"]) / app["build"]["dockerfile"]).is_file()
    worker = compose["services"]["worker"]
    assert worker["command"] == ["adviestraject", "worker"], "the outbox needs a worker"
    assert worker["image"] == app["image"]


def test_the_image_runs_as_a_non_root_user_and_migrates_before_serving() -> None:
    lines = [line.strip() for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users
    assert users[-1] not in {"root", "0"}
    assert any(line.startswith("FROM python:") and "slim" in line for line in lines)
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text(encoding="utf-8")
    assert "adviestraject migrate" in entrypoint
    assert 'exec "$@"' in entrypoint
    assert any("adviestraject" in line and "serve" in line for line in lines if "CMD" in line)


def test_the_proxy_passes_each_clients_own_address_and_the_app_believes_only_the_proxy() -> None:
    compose: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    proxy, app = compose["services"]["proxy"], compose["services"]["app"]
    proxy_ip = proxy["networks"]["front"]["ipv4_address"]
    subnet = compose["networks"]["front"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(proxy_ip) in ipaddress.ip_network(subnet)
    # uvicorn (serve) believes X-Forwarded-For from exactly the proxy, nobody else
    assert app["environment"]["ADVIESTRAJECT_FORWARDED_ALLOW_IPS"] == proxy_ip
    assert "front" in app["networks"]
    assert "ports" not in app, "clients reach the app through the proxy only"
    assert {p.split(":")[-1] for p in proxy["ports"]} == {"80", "443"}

    mounted = {v.split(":")[1]: v.split(":")[0] for v in proxy["volumes"]}
    caddyfile = (COMPOSE.parent / mounted["/etc/caddy/Caddyfile"]).read_text(encoding="utf-8")
    directives = [line.split("#")[0].strip() for line in caddyfile.splitlines()]
    assert "reverse_proxy app:8000 {" in directives
    # the address the connection came from, replacing whatever a client wrote there
    assert "header_up X-Forwarded-For {remote_host}" in directives
    assert proxy["image"].startswith("caddy:")


def test_compose_gives_the_app_and_the_worker_the_key_file_as_a_secret_and_one_status_volume() -> (
    None
):
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    services = compose["services"]
    for name in ("app", "worker"):
        assert services[name]["environment"]["ADVIESTRAJECT_KEY_FILE"] == "/run/secrets/pupil_keys"
        assert "pupil_keys" in services[name]["secrets"]
        assert "workerstatus:/app/var/worker" in services[name]["volumes"]
    assert compose["secrets"]["pupil_keys"]["file"] == "./secrets/pupil-keys.kek"
