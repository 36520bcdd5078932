"""A real LiteLLM proxy (the `litellm` command of the PyPI package) in front of the fake provider.

litellm_proxy (LiteLLMProxy, session scope)
    .url            http://127.0.0.1:PORT/v1: the endpoint of an integration that goes through the proxy
    .master_key     the proxy's key (`Authorization: Bearer <master_key>`)
    .upstream_key   the key the proxy sends to the fake provider
    .models         proxy model name -> the upstream model name it calls (`openai/<name>` at the fake provider)
    .startup_seconds  how long the proxy took to answer its liveness check
    .log()          what the proxy printed

The proxy runs from its own virtualenv, .venv-litellm-proxy (scripts/test.sh creates it from
tests/conformance/litellm-proxy-requirements.txt, the same litellm version as pyproject.toml), so the product's
dependencies do not change. It is started once per session with a config file on a free port, with the local model
cost map, no telemetry and no database, and stopped at the end of the session.
"""

import atexit
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
VENV = BASE_DIR / ".venv-litellm-proxy"
REQUIREMENTS = Path(__file__).with_name("litellm-proxy-requirements.txt")
START_TIMEOUT = 120

# Proxy model name -> upstream model. "reasoner-x" is a name LiteLLM does not know: it forwards the parameters as
# given, so the upstream's refusal comes back through the proxy (LiteLLM itself renames max_tokens for the gpt-5 and
# o-series names it knows).
MODELS = {"r1-distill": "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "reasoner-x": "reasoner-x"}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _config(upstream_url: str, master_key: str, upstream_key: str) -> str:
    lines = ["model_list:"]
    for name, upstream in MODELS.items():
        lines += [
            f"  - model_name: {name}",
            "    litellm_params:",
            f"      model: openai/{upstream}",
            f"      api_base: {upstream_url}",
            f"      api_key: {upstream_key}",
        ]
    lines += [
        "litellm_settings:",
        "  telemetry: false",
        "  num_retries: 0",
        "  drop_params: false",
        "general_settings:",
        f"  master_key: {master_key}",
        "  disable_spend_logs: true",
    ]
    return "\n".join(lines) + "\n"


@dataclass
class LiteLLMProxy:
    process: subprocess.Popen
    port: int
    master_key: str
    upstream_key: str
    log_path: Path
    startup_seconds: float
    models = MODELS

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


def start_proxy(upstream_url: str, directory: Path) -> LiteLLMProxy:
    executable = VENV / "bin" / "litellm"
    if not executable.exists():
        pytest.fail(
            f"{executable} is missing: scripts/test.sh creates it, or run "
            f"`python3.11 -m venv {VENV.name} && {VENV.name}/bin/pip install -r {REQUIREMENTS.relative_to(BASE_DIR)}`"
        )
    master_key, upstream_key = "sk-litellm-master-4f1c9e", "sk-upstream-7d2a60"
    config = directory / "litellm-config.yaml"
    config.write_text(_config(upstream_url, master_key, upstream_key))
    port = _free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        # The product's settings are not the proxy's: without DATABASE_URL it runs with no database.
        if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV", "PYTHONPATH")
    }
    environment.update(
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        LITELLM_TELEMETRY="False",
        LITELLM_LOG="WARNING",
        DISABLE_ADMIN_UI="True",
        NO_DOCS="True",
    )
    log_path = directory / "litellm-proxy.log"
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(executable),
                "--config",
                str(config),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--num_workers",
                "1",
            ],
            cwd=directory,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    proxy = LiteLLMProxy(process, port, master_key, upstream_key, log_path, 0.0)
    atexit.register(proxy.stop)  # also when the session ends without its fixtures' teardown
    deadline = started + START_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"the LiteLLM proxy exited with {process.returncode}:\n{proxy.log()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/liveliness", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proxy.stop()
            pytest.fail(f"the LiteLLM proxy did not start within {START_TIMEOUT} s:\n{proxy.log()[-3000:]}")
        time.sleep(0.25)
    proxy.startup_seconds = time.monotonic() - started
    return proxy


@pytest.fixture(scope="session")
def litellm_proxy(_openai_server_session, tmp_path_factory):
    proxy = start_proxy(_openai_server_session.url, tmp_path_factory.mktemp("litellm-proxy"))
    yield proxy
    proxy.stop()
