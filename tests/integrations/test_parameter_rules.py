"""Learned parameter rules: pinning one into the document through the update service, clearing, their lifetime."""

import pytest

from core.problems import Invalid
from integrations.catalogue import builtin_model
from integrations.models import Integration, ModelProperty, ParameterRule
from integrations.parameter_rules import (
    parameter_rule_clear,
    parameter_rule_learn,
    parameter_rule_list,
    parameter_rule_pin,
)
from integrations.services import integration_document, integration_upsert, integration_version
from tests.factories import api_key_document


@pytest.fixture
def integration(org, admin_user):
    document = api_key_document(
        model_properties=[
            {"name": "gpt-5.2", "alias": "GPT 5.2", "supported_parameters": ["max_tokens", "temperature", "seed"]},
            {"name": "o3", "alias": "O3", "based_on": "o3"},
        ]
    )
    return integration_upsert(organization=org, user=admin_user, name="custom", document=document)


def learn(integration, model_name, parameter, action, to=None) -> ParameterRule:
    return parameter_rule_learn(
        integration_id=integration.pk,
        model_name=model_name,
        parameter=parameter,
        action=action,
        to=to,
        reason="Unsupported parameter",
        run_id=None,
    )


def entry(integration, name) -> dict:
    document = integration_document(integration=Integration.objects.get(pk=integration.pk))
    return next(model for model in document["model_properties"] if model["name"] == name)


def test_pinning_a_rename_writes_parameter_names_and_forgets_the_rule(integration, admin_user):
    before = integration_version(integration=integration)
    rule = learn(integration, "gpt-5.2", "max_tokens", "rename", "max_completion_tokens")

    saved = parameter_rule_pin(rule=rule, user=admin_user)

    assert entry(integration, "gpt-5.2")["parameter_names"] == {"max_tokens": "max_completion_tokens"}
    assert ModelProperty.objects.get(integration=integration, name="gpt-5.2").parameter_names == {
        "max_tokens": "max_completion_tokens"
    }
    assert not ParameterRule.objects.exists()
    assert integration_version(integration=saved) != before  # saved as any update: the ETag moves
    assert Integration.objects.get(pk=integration.pk).api_key_value == "sk-test-ABC123"  # the secret is kept


def test_pinning_a_drop_removes_the_parameter_from_the_supported_list(integration, admin_user):
    parameter_rule_pin(rule=learn(integration, "gpt-5.2", "seed", "drop"), user=admin_user)

    assert entry(integration, "gpt-5.2")["supported_parameters"] == ["max_tokens", "temperature"]


def test_pinning_a_drop_on_a_based_on_model_writes_an_explicit_list(integration, admin_user):
    parameter_rule_pin(rule=learn(integration, "o3", "reasoning_effort", "drop"), user=admin_user)

    pinned = entry(integration, "o3")
    assert "based_on" not in pinned
    expected = [name for name in builtin_model("o3").supported_parameters if name != "reasoning_effort"]
    assert pinned["supported_parameters"] == expected
    # The built-in's names come along: max_tokens still goes out as max_completion_tokens.
    assert pinned["parameter_names"] == {"max_tokens": "max_completion_tokens"}


def test_a_rule_about_stream_options_cannot_be_pinned_and_stays(integration, admin_user):
    rule = learn(integration, "gpt-5.2", "stream_options", "drop")

    with pytest.raises(Invalid) as caught:
        parameter_rule_pin(rule=rule, user=admin_user)

    (error,) = caught.value.errors
    assert (error.loc, error.type) == (("rule",), "not_pinnable")
    assert ParameterRule.objects.filter(pk=rule.pk).exists()


def test_clearing_forgets_the_rule(integration):
    rule = learn(integration, "gpt-5.2", "seed", "drop")
    parameter_rule_clear(rule=rule)
    assert not ParameterRule.objects.exists()


def test_learning_again_replaces_the_rule_for_that_parameter(integration):
    first = learn(integration, "gpt-5.2", "max_tokens", "rename", "max_completion_tokens")
    second = learn(integration, "gpt-5.2", "max_tokens", "drop")

    assert first.pk == second.pk
    assert [(r.parameter, r.action, r.to) for r in parameter_rule_list(integration=integration)] == [
        ("max_tokens", "drop", None)
    ]


def test_rules_of_a_model_that_leaves_the_document_go_with_it(integration, org, admin_user):
    learn(integration, "o3", "reasoning_effort", "drop")
    kept = learn(integration, "gpt-5.2", "seed", "drop")
    document = integration_document(integration=integration)
    document["model_properties"] = document["model_properties"][:1]

    integration_upsert(organization=org, user=admin_user, name="custom", document=document)

    assert list(ParameterRule.objects.all()) == [kept]


def test_learning_for_a_deleted_integration_stores_nothing(integration):
    integration_id = integration.pk
    integration.delete()
    assert (
        parameter_rule_learn(
            integration_id=integration_id,
            model_name="gpt-5.2",
            parameter="seed",
            action="drop",
            to=None,
            reason="",
            run_id=None,
        )
        is None
    )
    assert not ParameterRule.objects.exists()
