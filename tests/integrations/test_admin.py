import json

import pytest
from django.contrib.auth import get_user_model

from integrations.models import Integration
from organizations.models import Role
from tests.factories import UserFactory, api_key_document, make_integration

PLANTED = "sk-admin-PLANTED-secret-9911"


@pytest.fixture
def staff_client(client, org):
    user = UserFactory(username="root", organization=org, role=Role.ADMIN)
    get_user_model().objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_pasting_a_document_in_the_admin_creates_the_integration_and_its_models(staff_client, org):
    response = staff_client.post(
        "/admin/integrations/integration/add/",
        {"organization": org.pk, "name": "portkey", "document": json.dumps(api_key_document(api_key_value=PLANTED))},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    integration = Integration.objects.get(name="portkey")
    assert [m.alias for m in integration.models.all()] == ["GPT 5.2", "GPT 5.4", "Opus 4.6"]
    assert integration.api_key_value == PLANTED


def test_the_admin_shows_errors_with_their_paths_and_saves_nothing(staff_client, org):
    document = api_key_document()
    document["model_properties"][1]["based_on"] = "GPT 9"
    response = staff_client.post(
        "/admin/integrations/integration/add/",
        {"organization": org.pk, "name": "portkey", "document": json.dumps(document)},
    )
    assert response.status_code == 200
    assert "model_properties[1].based_on" in response.content.decode()
    assert not Integration.objects.exists()


def test_the_admin_change_form_never_renders_a_secret_and_keeps_it_on_save(staff_client, org):
    integration = make_integration(
        organization=org, document=api_key_document(api_key_value=PLANTED, headers={"X-T": PLANTED + "h"})
    )
    url = f"/admin/integrations/integration/{integration.pk}/change/"
    page = staff_client.get(url).content.decode()
    assert PLANTED not in page
    assert "GPT 5.4" in page  # the model rows are visible
    assert staff_client.get("/admin/integrations/integration/").content.decode().count(PLANTED) == 0

    import re
    from html import unescape

    shown = unescape(re.search(r'<textarea name="document"[^>]*>(.*?)</textarea>', page, re.S).group(1))
    document = json.loads(shown)
    document["endpoint"] = "https://changed.example/v1"
    response = staff_client.post(url, {"document": json.dumps(document)})
    assert response.status_code == 302, response.content.decode()[:2000]
    integration.refresh_from_db()
    assert integration.endpoint == "https://changed.example/v1"
    assert integration.api_key_value == PLANTED
    assert integration.headers == {"X-T": PLANTED + "h"}


def test_an_invalid_change_in_the_admin_keeps_the_stored_integration(staff_client, org):
    integration = make_integration(organization=org)
    response = staff_client.post(
        f"/admin/integrations/integration/{integration.pk}/change/",
        {"document": json.dumps(api_key_document(endpoint="nope"))},
    )
    assert response.status_code == 200
    assert "endpoint: Must be an http" in response.content.decode()
    integration.refresh_from_db()
    assert integration.endpoint == "https://provider.example/v1"


def test_adding_in_the_admin_never_replaces_an_existing_integration(staff_client, org):
    existing = make_integration(organization=org, name="portkey")
    response = staff_client.post(
        "/admin/integrations/integration/add/",
        {
            "organization": org.pk,
            "name": "portkey",
            "document": json.dumps(api_key_document(endpoint="https://x.example")),
        },
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    existing.refresh_from_db()
    assert existing.endpoint == "https://provider.example/v1"


def test_the_admin_change_form_lists_learned_parameter_rules(staff_client, org):
    from integrations.parameter_rules import parameter_rule_learn

    integration = make_integration(organization=org, document=api_key_document())
    parameter_rule_learn(
        integration_id=integration.pk,
        model_name="gpt-5.2",
        parameter="max_tokens",
        action="rename",
        to="max_completion_tokens",
        reason="Unsupported parameter: 'max_tokens'",
        run_id=None,
    )

    page = staff_client.get(f"/admin/integrations/integration/{integration.pk}/change/").content.decode()

    assert "Parameter rules" in page and "max_completion_tokens" in page
