"""Saved prompts: versions are immutable and numbered, labels move, deletion is refused while a version is used."""

import pytest

from core.problems import Invalid
from organizations.models import Role
from prompts.models import Prompt, PromptLabel, PromptVersion
from prompts.selectors import prompt_get, prompt_list, prompt_version_get, prompt_version_parameters
from prompts.services import (
    DELETE,
    PromptInUse,
    prompt_create,
    prompt_delete,
    prompt_label_set,
    prompt_permissions,
    prompt_version_add,
)
from runners.models import Run
from runners.services import run_enqueue
from tests.factories import UserFactory, make_integration

MESSAGES = [{"role": "system", "content": "Answer for {{company}}."}, {"role": "user", "content": "{{question}}"}]


@pytest.fixture
def integration(org, admin_user):
    return make_integration(organization=org, user=admin_user, name="custom")


@pytest.fixture
def prompt(org, member_user, integration):
    return prompt_create(
        organization=org,
        user=member_user,
        name="support",
        messages=MESSAGES,
        model="GPT 5.2",
        parameters={"temperature": 0.2, "stop": "END"},
    )


def errors_of(excinfo) -> dict:
    return {error.loc: error.type for error in excinfo.value.errors}


def test_it_creates_a_prompt_with_version_1(prompt):
    version = prompt.versions.get()
    assert version.number == 1
    assert version.messages == MESSAGES
    assert version.model_alias == "GPT 5.2"
    # Parameters are checked and made canonical the way a run's are.
    assert version.parameters == {"temperature": 0.2, "stop_sequences": ["END"]}


def test_it_reports_every_problem_with_its_path_and_writes_nothing(org, member_user, prompt):
    with pytest.raises(Invalid) as excinfo:
        prompt_create(
            organization=org,
            user=member_user,
            name="support",
            messages=[{"role": "robot", "content": "hi"}],
            model="GPT 9",
            parameters={"temperature": 7},
            tools="not a list",
            response_format=[1],
        )
    assert set(errors_of(excinfo)) == {
        ("name",),
        ("messages", 0, "role"),
        ("model",),
        ("parameters", "temperature"),
        ("tools",),
        ("response_format",),
    }
    assert Prompt.objects.count() == 1 and PromptVersion.objects.count() == 1


def test_tools_and_response_format_inside_parameters_become_the_versions_own(org, member_user):
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    prompt = prompt_create(
        organization=org,
        user=member_user,
        name="tooling",
        messages=[{"role": "user", "content": "hi"}],
        parameters={"tools": tools, "max_tokens": 5},
        response_format={"type": "json_object"},
    )
    version = prompt.versions.get()
    assert (version.tools, version.response_format, version.parameters) == (
        tools,
        {"type": "json_object"},
        {"max_tokens": 5},
    )
    assert prompt_version_parameters(version) == {
        "max_tokens": 5,
        "tools": tools,
        "response_format": {"type": "json_object"},
    }


def test_adding_versions_numbers_them_and_leaves_earlier_ones_unchanged(prompt, admin_user):
    first = prompt.versions.get()
    before = PromptVersion.objects.filter(pk=first.pk).values().get()
    second = prompt_version_add(prompt=prompt, user=admin_user, messages=[{"role": "user", "content": "v2 {{x}}"}])
    third = prompt_version_add(
        prompt=prompt, user=admin_user, messages=[{"role": "user", "content": "v3"}], note="short"
    )
    assert [second.number, third.number] == [2, 3]
    assert PromptVersion.objects.filter(pk=first.pk).values().get() == before
    assert prompt_version_get(prompt=prompt, label="latest") == third
    assert prompt_version_get(prompt=prompt, number=1) == first


def test_a_rejected_version_adds_nothing(prompt, admin_user):
    with pytest.raises(Invalid) as excinfo:
        prompt_version_add(prompt=prompt, user=admin_user, messages=[])
    assert set(errors_of(excinfo)) == {("messages",)}
    assert prompt.versions.count() == 1


def test_a_label_moves_from_one_version_to_another(prompt, admin_user):
    first = prompt.versions.get()
    second = prompt_version_add(prompt=prompt, user=admin_user, messages=[{"role": "user", "content": "v2"}])
    prompt_label_set(prompt=prompt, name="production", version=first)
    assert prompt_version_get(prompt=prompt, label="production") == first
    prompt_label_set(prompt=prompt, name="production", version=second)
    assert prompt_version_get(prompt=prompt, label="production") == second
    assert PromptLabel.objects.filter(prompt=prompt).count() == 1
    listed = prompt_list(organization=prompt.organization).get()
    assert {label.name: label.version.number for label in listed.labels.all()} == {"production": 2}


@pytest.mark.parametrize("name", ["latest", "Production", "", "a b", "x" * 51, 5])
def test_it_refuses_bad_label_names(prompt, name):
    with pytest.raises(Invalid):
        prompt_label_set(prompt=prompt, name=name, version=prompt.versions.get())


def test_a_label_cannot_point_at_another_prompts_version(org, member_user, prompt):
    other = prompt_create(organization=org, user=member_user, name="other", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(Invalid):
        prompt_label_set(prompt=prompt, name="production", version=other.versions.get())


def test_deleting_is_refused_while_a_run_records_a_version(prompt, integration, admin_user):
    version = prompt.versions.get()
    run = run_enqueue(
        model=integration.models.get(alias="GPT 5.2"), user=admin_user, messages=[{"role": "user", "content": "x"}]
    )
    Run.objects.filter(pk=run.pk).update(prompt_version_id=version.pk)
    with pytest.raises(PromptInUse):
        prompt_delete(prompt=prompt)
    assert Prompt.objects.filter(pk=prompt.pk).exists()
    Run.objects.filter(pk=run.pk).update(prompt_version_id=None)
    prompt_delete(prompt=prompt)
    assert not Prompt.objects.exists() and not PromptVersion.objects.exists()


def test_members_create_and_only_admins_and_the_creator_delete(org, other_org, prompt, member_user, admin_user):
    someone = UserFactory(username="sam", organization=org, role=Role.MEMBER)
    outsider = UserFactory(username="oz", organization=other_org, role=Role.ADMIN)
    assert DELETE in prompt_permissions(prompt=prompt, user=member_user)  # the creator
    assert DELETE in prompt_permissions(prompt=prompt, user=admin_user)
    assert prompt_permissions(prompt=prompt, user=someone) == ["read", "use"]
    assert prompt_permissions(prompt=prompt, user=outsider) == []
    assert prompt_get(organization=other_org, prompt_id=prompt.pk) is None
