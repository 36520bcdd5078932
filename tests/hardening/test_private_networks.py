"""Private networks are the operator's choice: blocked by default in production (DJANGO_DEBUG=false), open in debug,
and RUNNERS_ALLOWED_NETWORKS keeps the listed ranges reachable while blocking. A refusal names both settings, at save
time for a literal address and at connect time on a real worker for any host name."""

import ipaddress
import secrets
import subprocess
from pathlib import Path

import pytest

from core.problems import Invalid
from integrations.models import Integration
from tests.factories import make_integration
from tests.fixtures.worker import wait_for_run
from tests.hardening.settings_process import settings_in_process
from tests.runners.conftest import provider_document

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "INTEGRATIONS_ENCRYPTION_KEY": secrets.token_urlsafe(32),
    "DJANGO_ALLOWED_HOSTS": "llm.example.com",
}
BOTH_SETTINGS = ("RUNNERS_BLOCK_PRIVATE_NETWORKS", "RUNNERS_ALLOWED_NETWORKS")


def _settings_value(expression: str, **env_overrides) -> subprocess.CompletedProcess:
    return settings_in_process(expression, drop=("RUNNERS_",), **env_overrides)


def test_private_networks_are_blocked_by_default_in_production_and_open_in_debug():
    production = _settings_value("settings.RUNNERS_BLOCK_PRIVATE_NETWORKS", **PRODUCTION)
    debug = _settings_value("settings.RUNNERS_BLOCK_PRIVATE_NETWORKS", DJANGO_DEBUG="true")

    assert (production.stdout.strip(), debug.stdout.strip()) == ("True", "False"), production.stderr + debug.stderr


def test_allowed_networks_are_read_as_cidrs():
    result = _settings_value(
        "[str(n) for n in settings.RUNNERS_ALLOWED_NETWORKS]",
        **PRODUCTION,
        RUNNERS_ALLOWED_NETWORKS=" 10.20.0.0/16, fd00:1::/64,192.168.7.7 ",
    )
    assert result.stdout.strip() == "['10.20.0.0/16', 'fd00:1::/64', '192.168.7.7/32']", result.stderr


@pytest.mark.parametrize("value", ["10.0.0.0/33", "gateway.internal", "10.1.2.3/8"])
def test_a_bad_allowed_network_stops_the_start(value):
    result = _settings_value("1", **PRODUCTION, RUNNERS_ALLOWED_NETWORKS=f"10.20.0.0/16,{value}")
    assert result.returncode != 0
    assert f"RUNNERS_ALLOWED_NETWORKS must be comma-separated CIDRs; {value!r} is not one" in result.stderr


@pytest.fixture
def blocking(settings):
    settings.RUNNERS_BLOCK_PRIVATE_NETWORKS = True
    settings.RUNNERS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.20.0.0/16")]
    return settings


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3", "[::ffff:192.168.1.1]", "0x7f000001"])
def test_a_literal_private_address_is_refused_at_save_naming_both_settings(org, blocking, host):
    with pytest.raises(Invalid) as caught:
        make_integration(organization=org, document=provider_document(f"http://{host}:8080/v1"))

    (error,) = caught.value.errors
    assert (error.loc, error.type) == (("endpoint",), "blocked_address")
    assert all(name in error.message for name in BOTH_SETTINGS), error.message
    assert not Integration.objects.exists()


@pytest.mark.parametrize("host", ["10.20.3.4", "[::ffff:10.20.3.4]"])
def test_an_allowed_network_can_be_saved_while_blocking(org, blocking, host):
    make_integration(organization=org, document=provider_document(f"http://{host}:8080/v1"))


def test_an_allowed_network_never_opens_the_metadata_service(org, blocking):
    blocking.RUNNERS_ALLOWED_NETWORKS = [ipaddress.ip_network("0.0.0.0/0")]
    with pytest.raises(Invalid) as caught:
        make_integration(organization=org, document=provider_document("http://169.254.169.254/v1"))
    assert "never allowed" in caught.value.errors[0].message


# Host spellings no other test connects with: a connection pooled before the setting changed would be reused.
def test_loopback_is_refused_at_connect_time_naming_both_settings(
    celery_worker, openai_server, integrate, enqueue, settings
):
    integration = integrate(provider_document(openai_server.url.replace("127.0.0.1", "127.0.1")))
    settings.RUNNERS_BLOCK_PRIVATE_NETWORKS = True  # after the save: the connect-time check alone refuses it
    settings.RUNNERS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    run = wait_for_run(enqueue(integration).pk)

    assert (run.status, run.error_type, run.attempts) == ("failed", "blocked_address", 1)
    assert all(name in run.error_message for name in BOTH_SETTINGS), run.error_message
    assert openai_server.completion_requests == []


def test_an_allowed_network_is_reachable_on_a_real_worker_while_blocking(
    celery_worker, openai_server, integrate, enqueue, blocking
):
    blocking.RUNNERS_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
    integration = integrate(provider_document(openai_server.url.replace("127.0.0.1", "127.1")))
    run = wait_for_run(enqueue(integration).pk)

    assert run.status == "succeeded", run.error_message
    assert len(openai_server.completion_requests) == 1
