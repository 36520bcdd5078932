"""Settings > Integrations: the OAuth2 client authentication method the token endpoint accepted, and its Pin button
(issue 13 item 13), which writes it into the document through the integration update service."""

import json
import re
from html import unescape

import pytest

from integrations.models import Integration
from integrations.services import integration_document, integration_oauth2_method_learn, integration_version
from tests.factories import make_integration
from tests.pages.conftest import _client

pytestmark = pytest.mark.django_db

SETTINGS = "/settings/integrations"
PIN = "/settings/integrations/custom/okta/oauth2-method/pin"
CLIENT_SECRET = "client-secret-PIN-9f3a"
DOCUMENT = {
    "authentication_type": "oauth2",
    "oauth2_token_url": "https://login.example/oauth2/token",
    "token": json.dumps({"client_id": "svc", "client_secret": CLIENT_SECRET}),
    "authentication_scope": "inference",
    "model_properties": [{"name": "provider-model-v2", "alias": "Provider Model v2"}],
    "endpoint": "https://api.provider.example/v1",
}


@pytest.fixture
def okta(org, admin_user):
    return make_integration(organization=org, user=admin_user, name="okta", document=DOCUMENT)


def card(page: str, name: str) -> str:
    match = re.search(rf'<li class="card integration" id="integration-{name}".*?</li>\s*\n', page, re.S)
    assert match, f"no card for {name}"
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0))))


def test_before_any_token_the_card_says_the_method_is_not_known_yet(admin_client, okta):
    text = card(admin_client.get(SETTINGS).content.decode(), "okta")
    assert "Token client authentication Found on the first token request" in text
    assert "Pin" not in text


def test_a_learned_method_is_shown_with_a_pin_button_for_those_who_may_update(
    admin_client, member_client, okta, admin_user
):
    integration_oauth2_method_learn(integration_id=okta.pk, method="client_secret_basic")

    page = admin_client.get(SETTINGS).content.decode()
    text = card(page, "okta")
    assert "client_secret_basic · accepted by the token endpoint" in text
    assert "Pin client_secret_basic for okta" in text
    assert f'action="{PIN}"' in page
    assert CLIENT_SECRET not in page

    member_text = card(member_client.get(SETTINGS).content.decode(), "okta")
    assert "client_secret_basic · accepted by the token endpoint" in member_text
    assert "Pin" not in member_text  # a member who did not create it may not change it
    assert member_client.post(PIN).status_code == 403


def test_the_pin_button_writes_the_method_into_the_document_keeping_the_secrets(admin_client, okta):
    integration_oauth2_method_learn(integration_id=okta.pk, method="client_secret_basic")
    version = integration_version(integration=Integration.objects.get(pk=okta.pk))

    response = admin_client.post(PIN)

    assert response.status_code == 302 and response["Location"] == f"{SETTINGS}#integration-okta"
    pinned = Integration.objects.get(pk=okta.pk)
    document = integration_document(integration=pinned, reveal_secrets=True)
    assert document["oauth2_token_auth_method"] == "client_secret_basic"
    assert json.loads(document["token"])["client_secret"] == CLIENT_SECRET
    assert integration_version(integration=pinned) != version  # a real save: the ETag moved
    page = admin_client.get(SETTINGS).content.decode()
    assert "now names oauth2_token_auth_method" in unescape(page)
    assert "client_secret_basic · named in the document" in card(page, "okta")
    assert "Pin" not in card(page, "okta")


def test_pinning_with_nothing_learned_says_so_and_changes_nothing(admin_client, okta):
    version = integration_version(integration=okta)
    response = admin_client.post(PIN, follow=True)
    assert "No method has been learned for this integration yet." in response.content.decode()
    assert integration_version(integration=Integration.objects.get(pk=okta.pk)) == version


def test_the_pin_is_post_only(admin_client, okta):
    assert admin_client.get(PIN).status_code == 405


def test_another_organisations_admin_gets_404(other_admin, okta):
    integration_oauth2_method_learn(integration_id=okta.pk, method="client_secret_basic")
    assert _client(other_admin).post(PIN).status_code == 404
    assert Integration.objects.get(pk=okta.pk).oauth2_token_auth_method == ""
