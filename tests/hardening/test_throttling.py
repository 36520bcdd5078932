"""Throttled sign-in and API: repeated failed logins for one account or from one address are locked out with a page
that says so (django-axes, /accounts/login/ and the admin login); API requests per key beyond API_THROTTLE_RATE
answer 429 with Retry-After (DRF throttling, counted in the shared Redis cache)."""

import time
from datetime import timedelta

import pytest
from django.test import Client

from organizations.models import Role
from organizations.services import api_key_issue
from tests.api.conftest import key_client
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery-staple"
LOGIN_URLS = ["/accounts/login/", "/admin/login/"]


@pytest.fixture
def ada(org):
    user = UserFactory(username="ada", organization=org, role=Role.ADMIN)
    user.set_password(PASSWORD)
    user.is_staff = True
    user.save()
    return user


def sign_in(url, username, password, *, address="203.0.113.7", **extra):
    return Client(REMOTE_ADDR=address).post(url, {"username": username, "password": password}, **extra)


def signed_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


@pytest.mark.parametrize("url", LOGIN_URLS)
def test_an_account_is_locked_after_five_failures_even_from_other_addresses(ada, url):
    failures = [sign_in(url, "ada", f"wrong-{n}", address=f"198.51.100.{n}") for n in range(5)]
    assert [r.status_code for r in failures] == [200, 200, 200, 200, 429]  # the fifth failure locks

    locked = sign_in(url, "ada", PASSWORD, address="192.0.2.99")  # the right password, from a new address

    assert not signed_in(locked)
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(15 * 60)
    page = locked.content.decode()
    assert "Too many sign-in attempts" in page
    assert "after 5 failed attempts" in page and "Try again in 15 minutes" in page


def test_an_address_is_locked_after_five_failures_on_any_accounts(ada):
    for n in range(5):
        sign_in("/accounts/login/", f"guess-{n}", "wrong")

    assert sign_in("/accounts/login/", "ada", PASSWORD).status_code == 429
    assert signed_in(sign_in("/accounts/login/", "ada", PASSWORD, address="192.0.2.1"))


def test_a_success_before_the_limit_resets_the_count(ada):
    for _ in range(4):
        sign_in("/accounts/login/", "ada", "wrong")
    assert signed_in(sign_in("/accounts/login/", "ada", PASSWORD))
    for _ in range(4):
        sign_in("/accounts/login/", "ada", "wrong")
    assert signed_in(sign_in("/accounts/login/", "ada", PASSWORD))


def test_the_lockout_ends_after_the_cool_off(ada, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    for _ in range(5):
        sign_in("/accounts/login/", "ada", "wrong")
    assert sign_in("/accounts/login/", "ada", PASSWORD).status_code == 429
    time.sleep(1.2)
    assert signed_in(sign_in("/accounts/login/", "ada", PASSWORD))


def test_the_limits_come_from_the_environment(ada, settings):
    settings.AXES_FAILURE_LIMIT = 2
    sign_in("/accounts/login/", "ada", "wrong")
    sign_in("/accounts/login/", "ada", "wrong")
    assert "after 2 failed attempts" in sign_in("/accounts/login/", "ada", PASSWORD).content.decode()


def test_behind_a_proxy_the_forwarded_address_is_the_one_counted(ada, settings):
    settings.LOGIN_PROXY_COUNT = 1
    # Every attempt reaches Django from the proxy (10.0.0.2); the client in front of it forges a left-most entry.
    for n in range(5):
        sign_in(
            "/accounts/login/",
            f"guess-{n}",
            "wrong",
            address="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, 203.0.113.7",
        )

    assert (
        sign_in("/accounts/login/", "ada", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code
        == 429
    )
    assert signed_in(
        sign_in("/accounts/login/", "ada", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1")
    )


@pytest.fixture
def three_per_minute(settings):
    settings.API_THROTTLE_RATE = "3/minute"


def test_api_requests_beyond_the_rate_answer_429_with_retry_after(ada, three_per_minute):
    client = key_client(api_key_issue(user=ada).raw_key)
    answers = [client.get("/api/v2/integrations") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60
    assert answers[-1].json()["detail"].startswith("Request was throttled.")


def test_each_key_and_each_session_has_its_own_budget(ada, three_per_minute):
    first, second = (key_client(api_key_issue(user=ada).raw_key) for _ in range(2))
    for _ in range(3):
        first.get("/api/v2/integrations")
    session = Client()
    session.force_login(ada)

    assert first.get("/api/v2/integrations").status_code == 429
    assert second.get("/api/v2/integrations").status_code == 200
    assert session.get("/api/v2/integrations").status_code == 200


def test_a_bad_rate_setting_fails_loudly():
    import subprocess
    import sys

    from tests.hardening.test_deploy_settings import ROOT

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**__import__("os").environ, "API_THROTTLE_RATE": "100 per minute"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "API_THROTTLE_RATE must be N/second, N/minute, N/hour or N/day" in result.stderr
