"""/healthz and /readyz: unauthenticated, cheap, answering by address over plain HTTP, and revealing nothing but
which component failed."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def production_front(settings):
    """What a probe meets in production: a host check it cannot pass (it comes by IP) and an HTTPS redirect."""
    settings.ALLOWED_HOSTS = ["llm.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    return {"HTTP_HOST": "10.4.2.17:8000"}


def test_healthz_answers_without_touching_the_database(client, production_front):
    # No `db` fixture: any database access in this test raises.
    response = client.get("/healthz", **production_front)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ok_when_the_database_and_the_broker_answer(db, client, production_front):
    response = client.get("/readyz", **production_front)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_names_the_broker_when_redis_is_down(db, client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    started = time.monotonic()
    response = client.get("/readyz")

    assert time.monotonic() - started < settings.HEALTH_CHECK_TIMEOUT + 1
    assert response.status_code == 503
    assert response.content == b'{"status": "unavailable", "failed": ["broker"]}'


def test_readyz_names_the_broker_when_the_embedded_brokers_folder_is_gone(db, client, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(tmp_path / "queue"),
        "data_folder_out": str(tmp_path / "queue"),
        "processed_folder": str(tmp_path / "processed"),
        "control_folder": str(tmp_path / "control"),
    }
    for name in ("queue", "processed", "control"):
        (tmp_path / name).mkdir()
    assert client.get("/readyz").status_code == 200

    (tmp_path / "queue").rmdir()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failed": ["broker"]}


def test_probes_take_only_get_and_head(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200


class WebServer:
    """The Procfile's web command (gunicorn with integrations_site/gunicorn.conf.py) on a free port."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = closed_port()
        self.log_path = log_path
        with open(ROOT / "Procfile") as procfile:
            (command,) = [line.split(":", 1)[1].split() for line in procfile if line.startswith("web:")]
        environment = {**os.environ, "WEB_HOST": "127.0.0.1", "WEB_PORT": str(self.port), "WEB_WORKERS": "1", **env}
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / command[0]), *command[1:]],
                cwd=ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.url}/healthz", timeout=1)
                return
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"web server did not start:\n{self.log()}") from None
                time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(15)


@pytest.fixture
def web_server(tmp_path):
    servers = []

    def start(**env) -> WebServer:
        servers.append(WebServer(env, tmp_path / f"web-{len(servers)}.log"))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.mark.slow
def test_readyz_names_the_database_when_it_is_down_on_the_production_web_server(web_server):
    server = web_server(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_port()}/integrations", HEALTH_CHECK_TIMEOUT="1"
    )

    assert httpx.get(f"{server.url}/healthz?probe=k8s-secret-q").json() == {"status": "ok"}
    started = time.monotonic()
    response = httpx.get(f"{server.url}/readyz", timeout=10)
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "unavailable", "failed": ["database"]}
    assert "server" not in {name.lower() for name in response.headers} or "gunicorn" in response.headers["server"]
    time.sleep(0.2)
    log = server.log()
    assert '"GET /healthz HTTP/1.1" 200' in log
    assert "k8s-secret-q" not in log  # the access log leaves query strings out
