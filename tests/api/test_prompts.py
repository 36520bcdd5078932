"""/api/v2/prompts: saved prompts with immutable versions and labels, scoped to the organisation."""

import uuid

import pytest

from prompts.models import PromptVersion
from runners.models import Run

URL = "/api/v2/prompts"
MESSAGES = [{"role": "system", "content": "You work for {{company}}."}, {"role": "user", "content": "{{question}}"}]


@pytest.fixture
def created(member_client, integration):
    response = member_client.post(
        URL,
        {"name": "support", "messages": MESSAGES, "model": "GPT 5.2", "parameters": {"temperature": 0.3}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_member_saves_a_prompt_and_reads_it_with_version_1(created, member_client):
    assert created["name"] == "support"
    assert created["latest_version"] == 1 and created["version_count"] == 1
    assert created["permissions"] == ["read", "use", "delete"]  # the creator
    (version,) = created["versions"]
    assert version["number"] == 1
    assert version["messages"] == MESSAGES
    assert version["variables"] == ["company", "question"]
    assert version["model"] == "GPT 5.2"
    assert version["parameters"] == {"temperature": 0.3}
    assert version["tools"] is None and version["response_format"] is None
    assert version["created_by"] == "max"
    assert uuid.UUID(created["id"]) and uuid.UUID(version["id"])
    assert member_client.get(f"{URL}/{created['id']}").json() == created
    listed = member_client.get(URL).json()
    assert [item["id"] for item in listed] == [created["id"]]
    assert "versions" not in listed[0]


def test_bad_input_is_a_422_with_every_problem_located(member_client, integration):
    response = member_client.post(
        URL,
        {
            "name": "",
            "messages": [{"role": "robot", "content": "hi"}],
            "model": "GPT 9",
            "parameters": {"temprature": 1},
            "tools": {"not": "a list"},
        },
        format="json",
    )
    assert response.status_code == 422
    locs = {tuple(problem["loc"]) for problem in response.json()["detail"]}
    assert ("body", "name") in locs
    response = member_client.post(
        URL,
        {
            "name": "ok",
            "messages": [{"role": "robot", "content": "hi"}],
            "model": "GPT 9",
            "parameters": {"temprature": 1},
            "tools": {"not": "a list"},
        },
        format="json",
    )
    assert response.status_code == 422
    assert {tuple(problem["loc"]) for problem in response.json()["detail"]} == {
        ("body", "messages", 0, "role"),
        ("body", "model"),
        ("body", "parameters", "temprature"),
        ("body", "tools"),
    }
    assert member_client.get(URL).json() == []


def test_a_name_is_unique_in_the_organisation(created, member_client, other_client):
    response = member_client.post(URL, {"name": "support", "messages": MESSAGES}, format="json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]
    # Another organisation may use it.
    assert other_client.post(URL, {"name": "support", "messages": MESSAGES}, format="json").status_code == 201


def test_versions_are_added_never_changed(created, admin_client):
    versions_url = f"{URL}/{created['id']}/versions"
    first = admin_client.get(f"{versions_url}/1").json()
    response = admin_client.post(
        versions_url,
        {"messages": [{"role": "user", "content": "Shorter: {{question}}"}], "note": "shorter"},
        format="json",
    )
    assert response.status_code == 201
    second = response.json()
    assert (second["number"], second["note"], second["model"], second["variables"]) == (
        2,
        "shorter",
        None,
        ["question"],
    )
    assert [v["number"] for v in admin_client.get(versions_url).json()] == [1, 2]
    assert admin_client.get(f"{versions_url}/1").json() == first
    assert admin_client.get(f"{versions_url}/3").status_code == 404
    # No way to change a version: no PUT, PATCH or DELETE on it.
    for method in ("put", "patch", "delete"):
        assert (
            getattr(admin_client, method)(f"{versions_url}/1", {"messages": MESSAGES}, format="json").status_code == 405
        )
    assert admin_client.get(f"{versions_url}/1").json() == first
    assert admin_client.get(f"{URL}/{created['id']}").json()["latest_version"] == 2


def test_a_label_moves_between_versions(created, member_client):
    base = f"{URL}/{created['id']}"
    member_client.post(f"{base}/versions", {"messages": [{"role": "user", "content": "v2"}]}, format="json")
    response = member_client.put(f"{base}/labels/production", {"version": 1}, format="json")
    assert response.status_code == 200
    assert response.json() == {"name": "production", "version": 1}
    assert member_client.get(f"{base}/labels/production").json()["number"] == 1
    assert member_client.put(f"{base}/labels/production", {"version": 2}, format="json").json()["version"] == 2
    assert member_client.get(f"{base}/labels/production").json()["number"] == 2
    assert member_client.get(f"{base}/labels/latest").json()["number"] == 2
    read = member_client.get(base).json()
    assert read["labels"] == {"production": 2}
    assert [v["labels"] for v in read["versions"]] == [[], ["production"]]
    assert member_client.delete(f"{base}/labels/production").status_code == 204
    assert member_client.get(f"{base}/labels/production").status_code == 404
    assert member_client.delete(f"{base}/labels/production").status_code == 404


def test_bad_labels_are_422s(created, member_client):
    base = f"{URL}/{created['id']}/labels"
    response = member_client.put(f"{base}/latest", {"version": 1}, format="json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "label"]
    response = member_client.put(f"{base}/production", {"version": 9}, format="json")
    assert (response.status_code, response.json()["detail"][0]["loc"]) == (422, ["body", "version"])
    response = member_client.put(f"{base}/production", {"version": "one"}, format="json")
    assert (response.status_code, response.json()["detail"][0]["loc"]) == (422, ["body", "version"])


def test_only_admins_and_the_creator_delete(created, callers):
    url = f"{URL}/{created['id']}"
    assert callers["creator"].delete(url).status_code == 403  # cora did not create this one
    assert callers["other_org_admin"].delete(url).status_code == 404
    assert callers["member"].delete(url).status_code == 204  # max did
    assert callers["admin"].get(url).status_code == 404


def test_an_admin_deletes_anyones_prompt(created, admin_client):
    assert admin_client.delete(f"{URL}/{created['id']}").status_code == 204
    assert not PromptVersion.objects.exists()


def test_deletion_is_refused_while_a_run_came_from_a_version(created, admin_client, integration):
    response = admin_client.post(
        "/api/v2/runs",
        {"integration": "custom", "model": "GPT 5.2", "messages": [{"role": "user", "content": "x"}]},
        format="json",
    )
    Run.objects.filter(pk=response.json()["id"]).update(prompt_version_id=created["versions"][0]["id"])
    assert (
        admin_client.get(f"/api/v2/runs/{response.json()['id']}").json()["prompt_version"]
        == created["versions"][0]["id"]
    )
    response = admin_client.delete(f"{URL}/{created['id']}")
    assert response.status_code == 409
    assert "run" in response.json()["detail"]
    assert admin_client.get(f"{URL}/{created['id']}").status_code == 200


@pytest.mark.parametrize(
    "path", ["", "/versions", "/versions/1", "/labels/latest"], ids=["prompt", "versions", "version", "label"]
)
def test_another_organisations_prompt_is_a_404(created, other_client, path):
    assert other_client.get(f"{URL}/{created['id']}{path}").status_code == 404
    assert other_client.get(URL).json() == []


@pytest.mark.parametrize("caller", ["no_key", "bad_key", "revoked_key"])
def test_no_key_is_a_401(callers, caller):
    assert callers[caller].get(URL).status_code == 401


def test_a_memberless_user_is_a_403(callers):
    assert callers["memberless"].post(URL, {"name": "x", "messages": MESSAGES}, format="json").status_code == 403
