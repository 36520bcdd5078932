"""The per-model extension key `parameter_names`, the catalogue's names, and what based_on copies."""

import pytest

from core.problems import Invalid
from integrations.catalogue import builtin_model, builtin_models
from integrations.document import parse_document
from integrations.models import ModelProperty
from integrations.services import integration_document, integration_upsert
from tests.factories import api_key_document


def _model(**fields) -> dict:
    return api_key_document(model_properties=[{"name": "m", **fields}])


def _problems(document) -> list[tuple[tuple, str]]:
    with pytest.raises(Invalid) as caught:
        parse_document(document)
    return [(error.loc, error.type) for error in caught.value.errors]


@pytest.mark.parametrize(
    "alias",
    ["o1", "o3", "o3-mini", "o3-pro", "o4-mini", "gpt-5", "gpt-5-mini", "gpt-5.2", "o3 (Azure)", "gpt-5 (Azure)"],
)
def test_openai_reasoning_models_take_max_completion_tokens(alias):
    assert builtin_model(alias).parameter_names == {"max_tokens": "max_completion_tokens"}


@pytest.mark.parametrize("alias", ["GPT-4o", "gpt-4.1", "Claude Opus 4.6", "gemini-2.5-pro", "GPT-4o (Azure)"])
def test_other_models_take_max_tokens(alias):
    assert builtin_model(alias).parameter_names == {}


def test_every_catalogue_name_is_for_a_parameter_the_model_supports():
    for model in builtin_models():
        assert set(model.parameter_names) <= set(model.supported_parameters), model.alias


def test_based_on_copies_the_names_with_the_parameters():
    (model,) = parse_document(_model(based_on="o3")).models
    assert model.parameter_names == {"max_tokens": "max_completion_tokens"}
    assert model.declared_parameter_names is None


def test_the_document_names_override_based_on_and_read_back_as_written(org):
    document = _model(based_on="o3", parameter_names={"max_tokens": "max_tokens"})
    integration = integration_upsert(organization=org, user=None, name="custom", document=document)

    stored = ModelProperty.objects.get(integration=integration)
    assert stored.parameter_names == {"max_tokens": "max_tokens"}
    entry = integration_document(integration=integration)["model_properties"][0]
    assert entry == {"name": "m", "alias": "m", "based_on": "o3", "parameter_names": {"max_tokens": "max_tokens"}}


def test_stop_is_accepted_as_stop_sequences():
    (model,) = parse_document(_model(supported_parameters=["stop"], parameter_names={"stop": "stop_words"})).models
    assert model.parameter_names == {"stop_sequences": "stop_words"}


@pytest.mark.parametrize(
    ("names", "loc", "kind"),
    [
        ({"temprature": "t"}, ("model_properties", 0, "parameter_names", "temprature"), "unknown_parameter"),
        ({"top_k": "k"}, ("model_properties", 0, "parameter_names", "top_k"), "unknown_parameter"),
        ({"max_tokens": ""}, ("model_properties", 0, "parameter_names", "max_tokens"), "wire_name"),
        ({"max_tokens": "max tokens"}, ("model_properties", 0, "parameter_names", "max_tokens"), "wire_name"),
        ({"max_tokens": "messages"}, ("model_properties", 0, "parameter_names", "max_tokens"), "wire_name"),
        ({"max_tokens": "stream_options"}, ("model_properties", 0, "parameter_names", "max_tokens"), "wire_name"),
        ({"max_tokens": "temperature"}, ("model_properties", 0, "parameter_names", "max_tokens"), "duplicate"),
        ({"max_tokens": 5}, ("model_properties", 0, "parameter_names", "max_tokens"), "string_type"),
        (["max_tokens"], ("model_properties", 0, "parameter_names"), "dict_type"),
    ],
)
def test_bad_parameter_names_are_refused_with_their_path(names, loc, kind):
    document = _model(supported_parameters=["max_tokens", "temperature"], parameter_names=names)
    assert (loc, kind) in _problems(document)


def test_a_typo_in_the_key_is_suggested():
    with pytest.raises(Invalid) as caught:
        parse_document(_model(parameter_name={"max_tokens": "x"}))
    (error,) = caught.value.errors
    assert error.loc == ("model_properties", 0, "parameter_name")
    assert 'Did you mean "parameter_names"?' in error.message
