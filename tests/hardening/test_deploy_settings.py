import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SECRET_KEY", "INTEGRATIONS_ENCRYPTION_KEY")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "INTEGRATIONS_ENCRYPTION_KEY": secrets.token_urlsafe(32),
    "DJANGO_ALLOWED_HOSTS": "llm.example.com",
}


@pytest.mark.slow
def test_production_settings_pass_the_deploy_check_with_no_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "INTEGRATIONS_ENCRYPTION_KEY"])
def test_production_refuses_to_start_without_its_secrets(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert f"{missing} is required" in result.stderr


def test_a_bad_boolean_setting_fails_loudly():
    result = _manage("check", DJANGO_DEBUG="maybe")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be true or false" in result.stderr
