"""The OAuth2 client authentication method in a real browser (issue 13 item 13): Test an integration whose token
endpoint only takes client_secret_basic, see the method the runner found on Settings > Integrations, Pin it, and the
next token request goes with Basic at once; against a real Celery worker, token server and provider."""

import json
import re
import secrets

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from integrations.models import Integration
from integrations.services import integration_document
from organizations.models import Role
from runners.auth import client_credentials
from tests.browser.conftest import log_in, screenshot
from tests.factories import UserFactory, make_integration

pytestmark = [pytest.mark.browser, pytest.mark.worker]


@pytest.fixture
def admin(org):
    return UserFactory(username="ada", organization=org, role=Role.ADMIN)


def test_test_then_pin_the_method_the_token_endpoint_accepted(
    page, live_server, celery_worker, openai_server, oauth2_server, admin, org
):
    client_id, client_secret = f"svc-{secrets.token_hex(3)}", f"secret-{secrets.token_hex(8)}"
    oauth2_server.add_client(client_id, client_secret, auth_method="client_secret_basic")
    openai_server.require_oauth2(oauth2_server)
    token = json.dumps({"client_id": client_id, "client_secret": client_secret})
    make_integration(
        organization=org, user=admin, name="okta", document=oauth2_server.document(openai_server.url, token=token)
    )
    log_in(page, "ada")
    card = page.locator("#integration-okta")
    expect(card.locator("[data-oauth2-method]")).to_have_text("Found on the first token request")

    card.get_by_role("button", name="Test").click()
    expect(page.locator("#test-results")).to_have_attribute("data-done", "true", timeout=20_000)
    expect(page.locator(".test-summary")).not_to_contain_text("failed")
    assert [r.auth_method for r in oauth2_server.token_requests] == ["client_secret_post", "client_secret_basic"]

    page.goto("/settings/integrations")
    expect(card.locator("[data-oauth2-method]")).to_contain_text("client_secret_basic · accepted by the token endpoint")
    screenshot(page, "oauth2-method-learned")
    card.get_by_role("button", name=re.compile("^Pin client_secret_basic")).click()

    expect(page.locator(".flash-success")).to_contain_text("now names oauth2_token_auth_method")
    expect(card.locator("[data-oauth2-method]")).to_contain_text("client_secret_basic · named in the document")
    expect(card.get_by_role("button", name=re.compile("^Pin"))).to_have_count(0)
    integration = Integration.objects.get(name="okta")
    assert integration_document(integration=integration)["oauth2_token_auth_method"] == "client_secret_basic"
    assert client_secret not in page.content()

    # The next token request (the cached token gone) goes with Basic only.
    cache.delete(
        client_credentials(
            token_url=integration.token_url, token_document=integration.token, scope="inference"
        ).cache_key
    )
    card.get_by_role("button", name="Test").click()
    expect(page.locator("#test-results")).to_have_attribute("data-done", "true", timeout=20_000)
    assert [r.auth_method for r in oauth2_server.token_requests][2:] == ["client_secret_basic"]
