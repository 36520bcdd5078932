"""Settings > Integrations with a `tls` key in Chromium: the certificate's subject and its expiry warning, then the
Test button against a real server that requires a client certificate, with a real worker."""

import datetime
import re

import pytest
import trustme
from playwright.sync_api import expect

from organizations.models import Role
from tests.browser.conftest import SCREENSHOTS, log_in, screenshot
from tests.factories import UserFactory, api_key_document, make_integration
from tests.fixtures.certificates import client_leaf, key_lines, now, tls_key
from tests.fixtures.servers import server_tls

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_the_expiry_warning_shows_and_the_test_says_the_client_certificate_was_refused(
    page, live_server, celery_worker, https_servers, org
):
    UserFactory(username="ada", organization=org, role=Role.ADMIN)
    server_ca, client_ca = trustme.CA(), trustme.CA()
    server = https_servers.openai(server_tls(server_ca, client_ca=client_ca))
    # Issued by a CA the server does not trust, and expiring in 20 days.
    stranger = client_leaf(trustme.CA(), "gateway-client@example.test", not_after=now() + datetime.timedelta(days=20))
    document = api_key_document(
        endpoint=server.url,
        model_properties=[{"name": "gw-model", "alias": "Gateway"}],
        tls=tls_key(ca=server_ca, client=stranger),
    )
    make_integration(organization=org, name="gateway", document=document)

    log_in(page, "ada")
    card = page.locator("#integration-gateway")
    expect(card.locator(".tls-certificate[data-role='client certificate']")).to_contain_text(
        "CN=gateway-client@example.test"
    )
    expect(card.locator(".tls-expiry-warning")).to_have_text(re.compile(r"expires in 20 days: renew it"))
    card.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    card.screenshot(path=str(SCREENSHOTS / "integration-tls-card.png"))
    card.get_by_role("button", name="Test").click()
    expect(page.locator("#test-results")).to_have_attribute("data-done", "true", timeout=20_000)
    error = page.locator('[data-model="Gateway"] .error-box')
    expect(error).to_contain_text("does not trust the issuer of the client certificate")
    screenshot(page, "integration-test-tls-refused")
    content = page.content()
    assert all(line not in content for line in key_lines(stranger))
