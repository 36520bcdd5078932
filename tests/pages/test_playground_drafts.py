"""Playground drafts: saved per user on the server, given back with the page, the last model preselected."""

import json

import pytest
from django.test import Client

from organizations.models import Role
from playground.models import PlaygroundDraft
from tests.factories import UserFactory, api_key_document, make_integration
from tests.pages.test_playground_pages import page_data

DRAFT = "/playground/draft"
A_DRAFT = {
    "messages": [{"role": "user", "content": "Hello {{name}}"}],
    "variables": {"name": "Ada"},
    "columns": [{"model": "GPT 5.2", "parameters": {"temperature": "0.4"}}, {"model": "GPT 5.4", "parameters": {}}],
    "compare": True,
    "stream": False,
    "prompt": {"id": "8a5b3f8e-2f44-4e47-9a53-3c5f7b4ad0c1", "version": 2},
    "last_model": "GPT 5.4",
}


def put(client, body) -> dict:
    response = client.put(DRAFT, json.dumps(body), content_type="application/json")
    return response


def test_a_draft_comes_back_with_the_page_and_from_its_url(admin_client, integration):
    assert admin_client.get(DRAFT).json() == {"draft": None}
    assert page_data(admin_client.get("/playground"))["draft"] is None
    response = put(admin_client, {**A_DRAFT, "unknown": "dropped"})
    assert response.status_code == 200
    assert response.json()["draft"] == A_DRAFT
    assert admin_client.get(DRAFT).json() == {"draft": A_DRAFT}
    assert page_data(admin_client.get("/playground"))["draft"] == A_DRAFT


def test_the_last_model_chosen_is_preselected_while_it_exists(admin_client, org, integration):
    make_integration(
        organization=org,
        name="together",
        document=api_key_document(model_properties=[{"name": "llama-a", "alias": "Llama A"}]),
    )
    assert page_data(admin_client.get("/playground"))["default_alias"] == "GPT 5.2"
    put(admin_client, {"last_model": "Llama A"})
    response = admin_client.get("/playground")
    assert page_data(response)["default_alias"] == "Llama A"
    assert '<option value="Llama A" selected>' in response.content.decode()
    put(admin_client, {"last_model": "A model since deleted"})
    assert page_data(admin_client.get("/playground"))["default_alias"] == "GPT 5.2"


def test_drafts_are_per_user(admin_client, member_client, org, integration):
    put(admin_client, A_DRAFT)
    assert member_client.get(DRAFT).json() == {"draft": None}
    put(member_client, {"messages": [{"role": "user", "content": "mine"}]})
    assert admin_client.get(DRAFT).json()["draft"] == A_DRAFT
    assert PlaygroundDraft.objects.count() == 2


def test_a_user_in_another_organisation_does_not_see_an_old_draft(org, other_org, integration):
    user = UserFactory(username="mover", organization=org, role=Role.MEMBER)
    client = Client()
    client.force_login(user)
    put(client, A_DRAFT)
    user.membership.organization = other_org
    user.membership.save()
    assert client.get(DRAFT).json() == {"draft": None}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ([], ["draft"]),
        ({"messages": "hello"}, ["draft", "messages"]),
        ({"variables": []}, ["draft", "variables"]),
        ({"compare": 1}, ["draft", "compare"]),
        ({"columns": True}, ["draft", "columns"]),
        ({"messages": [{"role": "user", "content": "x" * 300_000}]}, ["draft"]),
    ],
)
def test_a_draft_of_the_wrong_shape_is_a_422_and_keeps_the_old_one(admin_client, integration, body, loc):
    put(admin_client, A_DRAFT)
    response = put(admin_client, body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", *loc]
    assert admin_client.get(DRAFT).json()["draft"] == A_DRAFT


def test_saving_a_draft_needs_login_and_csrf(client, admin_user):
    assert client.get(DRAFT).status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert put(strict, A_DRAFT).status_code == 403
    assert not PlaygroundDraft.objects.exists()
