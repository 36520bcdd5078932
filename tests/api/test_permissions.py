"""Every endpoint, for every kind of caller: who gets 2xx, 401, 403 and 404 (DESIGN.md §5, §6)."""

import pytest

from runners.models import Job
from runners.services import job_create, run_enqueue
from tests.factories import api_key_document

CALLERS = ["admin", "member", "creator", "other_org_admin", "memberless", "no_key", "bad_key", "revoked_key"]
UNAUTHENTICATED = {"no_key": 401, "bad_key": 401, "revoked_key": 401, "memberless": 403}


def expected(**by_caller):
    """Statuses for the organisation's callers, the other organisation's admin, and the unauthenticated."""
    return {**by_caller, **UNAUTHENTICATED}


MATRIX = {
    ("get", "/api/v2/integrations"): expected(admin=200, member=200, creator=200, other_org_admin=200),
    ("get", "/api/v2/integrations/custom"): expected(admin=200, member=200, creator=200, other_org_admin=404),
    ("get", "/api/v2/integrations/custom/custom"): expected(admin=200, member=200, creator=200, other_org_admin=404),
    ("get", "/api/v2/integrations/custom/custom/definition"): expected(
        admin=200, member=403, creator=200, other_org_admin=404
    ),
    ("put", "/api/v2/integrations/custom/custom"): expected(
        # The other organisation's admin creates their own "custom": names are per organisation.
        admin=200,
        member=403,
        creator=200,
        other_org_admin=200,
    ),
    ("put", "/api/v2/integrations/custom"): expected(admin=200, member=403, creator=200, other_org_admin=200),
    ("delete", "/api/v2/integrations/custom/custom"): expected(admin=204, member=403, creator=204, other_org_admin=404),
    ("delete", "/api/v2/integrations/custom"): expected(admin=204, member=403, creator=204, other_org_admin=404),
    ("get", "/api/v2/llm_integrations"): expected(admin=200, member=200, creator=200, other_org_admin=200),
    ("get", "/api/v2/runs"): expected(admin=200, member=200, creator=200, other_org_admin=200),
    ("get", "/api/v2/runs/{run_id}"): expected(admin=200, member=200, creator=200, other_org_admin=404),
    # Another organisation has no integration "custom": for it that is an invalid body, not a missing object.
    ("post", "/api/v2/runs"): expected(admin=202, member=202, creator=202, other_org_admin=422),
}


@pytest.fixture
def run(org, integration, creator):
    model = integration.models.get(alias="GPT 5.2")
    job = job_create(organization=org, user=creator, kind=Job.Kind.API)
    return run_enqueue(model=model, user=creator, messages=[{"role": "user", "content": "hi"}], job=job)


def _body(method, path):
    if method == "put":
        return api_key_document(api_key_value="sk-new")
    if method == "post":
        return {"integration": "custom", "model": "GPT 5.2", "messages": [{"role": "user", "content": "hi"}]}
    return None


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "path"), list(MATRIX), ids=[f"{m.upper()} {p}" for m, p in MATRIX])
def test_each_caller_gets_the_status_of_their_role(callers, run, caller, method, path):
    url = path.format(run_id=run.pk)
    response = getattr(callers[caller], method)(url, _body(method, path), format="json")
    assert response.status_code == MATRIX[(method, path)][caller], response.content
    if response.status_code != 204:
        assert response["Content-Type"] == "application/json"
    if response.status_code >= 400:
        assert isinstance(response.json()["detail"], str | list)
    if response.status_code == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_lists_never_show_another_organisations_objects(callers, integration, run):
    other = callers["other_org_admin"]
    assert other.get("/api/v2/integrations").json() == []
    assert other.get("/api/v2/llm_integrations").json() == []
    assert other.get("/api/v2/runs").json()["results"] == []
    assert other.get(f"/api/v2/runs?job={run.job_id}").json()["results"] == []


def test_another_organisations_put_leaves_ours_alone(callers, integration):
    document = api_key_document(api_key_value="sk-theirs")
    document["model_properties"] = [{"name": "theirs", "alias": "GPT 5.2"}]  # aliases are per organisation
    assert callers["other_org_admin"].put("/api/v2/integrations/custom", document, format="json").status_code == 200
    ours = callers["admin"].get("/api/v2/integrations/custom/custom/definition").json()
    assert ours["api_key_value"] == "sk-test-ABC123"
    assert [m["name"] for m in ours["model_properties"]] == ["gpt-5.2", "gpt-5.4", "claude-opus-4-6"]


def test_permissions_say_what_the_caller_may_do(callers, integration):
    def permissions(caller):
        return callers[caller].get("/api/v2/integrations").json()[0]["permissions"]

    assert set(permissions("admin")) >= {"update", "delete", "read_secrets"}
    assert set(permissions("creator")) >= {"update", "delete", "read_secrets"}
    assert not {"update", "delete", "read_secrets"} & set(permissions("member"))
    assert "use" in permissions("member")


def test_a_member_may_create_an_integration_and_becomes_its_creator(callers, member_user):
    response = callers["member"].put("/api/v2/integrations/custom/mine", api_key_document(), format="json")
    assert response.status_code == 200
    assert response.json()["created_by"] == member_user.username
    assert {"update", "delete", "read_secrets"} <= set(response.json()["permissions"])
    assert callers["member"].get("/api/v2/integrations/custom/mine/definition").status_code == 200


def test_session_users_need_the_csrf_token_to_write(admin_user, integration):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.get("/api/v2/integrations").status_code == 200
    response = client.delete("/api/v2/integrations/custom/custom")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]

    client.get("/accounts/login/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    assert client.delete("/api/v2/integrations/custom/custom", HTTP_X_CSRFTOKEN=token).status_code == 204


def test_a_session_without_login_is_a_401(db):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v2/integrations")
    assert response.status_code == 401
    assert response["WWW-Authenticate"]


def test_bearer_and_galileo_headers_are_the_same_key(admin_user, integration):
    from organizations.services import api_key_issue
    from tests.api.conftest import key_client

    raw = api_key_issue(user=admin_user).raw_key
    assert key_client(raw).get("/api/v2/integrations").status_code == 200
    assert key_client(raw, bearer=True).get("/api/v2/integrations").status_code == 200
    assert key_client(raw + "x", bearer=True).get("/api/v2/integrations").status_code == 401
