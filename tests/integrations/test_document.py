import copy
import json
from pathlib import Path

import pytest

from core.problems import Invalid
from integrations.catalogue import DEFAULT_PARAMETERS
from integrations.document import parse_document
from integrations.models import Integration, ModelProperty
from integrations.services import integration_document, integration_upsert
from tests.factories import api_key_document

SEED_EXAMPLES = json.loads((Path(__file__).parent.parent / "data" / "seed_examples.json").read_text())


def _oauth2(**overrides):
    document = copy.deepcopy(SEED_EXAMPLES[3])
    document.update(overrides)
    return document


def _with_model(**fields):
    return api_key_document(model_properties=[{"name": "m", **fields}])


def _without(key):
    document = api_key_document()
    del document[key]
    return document


# (document, path of the error it must report)
INVALID_DOCUMENTS = [
    ([], "(document)"),
    ("not json at all", "(document)"),
    ('{"endpoint": "https://x"', "(document)"),
    (_without("endpoint"), "endpoint"),
    (_without("model_properties"), "model_properties"),
    (api_key_document(endpoint="ftp://provider.example/v1"), "endpoint"),
    (api_key_document(endpoint="provider.example/v1"), "endpoint"),
    (api_key_document(endpoint="https://"), "endpoint"),
    (api_key_document(endpoint="https://user:pass@provider.example/v1"), "endpoint"),
    (api_key_document(endpoint="https://provider.example:99999/v1"), "endpoint"),
    (api_key_document(endpoint="https://" + "a" * 2100 + ".example"), "endpoint"),
    (api_key_document(endpoint=42), "endpoint"),
    (api_key_document(authentication_type="basic"), "authentication_type"),
    (api_key_document(authentication_type=None), "authentication_type"),
    (_without("api_key_header"), "api_key_header"),
    (_without("api_key_value"), "api_key_value"),
    (api_key_document(api_key_value=""), "api_key_value"),
    (api_key_document(api_key_header="bad header"), "api_key_header"),
    (api_key_document(api_key_value="line\nbreak"), "api_key_value"),
    (api_key_document(api_key_value=12345), "api_key_value"),
    (api_key_document(token='{"client_id": "a", "client_secret": "b"}'), "token"),
    (_oauth2(token=None), "token"),
    (_oauth2(token="not-json"), "token"),
    (_oauth2(token='["a", "b"]'), "token"),
    (_oauth2(token='{"client_id": "a"}'), "token"),
    (_oauth2(token='{"client_id": "a", "client_secret": ""}'), "token"),
    (_oauth2(token={"client_id": "a", "client_secret": "b"}), "token"),
    (_oauth2(oauth2_token_url="not a url"), "oauth2_token_url"),
    (_oauth2(api_key_header="x-key"), "api_key_header"),
    ({**SEED_EXAMPLES[4], "api_key_value": "x"}, "api_key_value"),
    (api_key_document(model_properties=[]), "model_properties"),
    (api_key_document(model_properties={"name": "m"}), "model_properties"),
    (api_key_document(model_properties=["m"]), "model_properties[0]"),
    (api_key_document(model_properties=[{"alias": "M"}]), "model_properties[0].name"),
    (_with_model(name=""), "model_properties[0].name"),
    (_with_model(alias=""), "model_properties[0].alias"),
    (_with_model(alias="x" * 300), "model_properties[0].alias"),
    (_with_model(based_on="gpt-4.1", supported_parameters=["temperature"]), "model_properties[0].based_on"),
    (_with_model(based_on="GPT-9000"), "model_properties[0].based_on"),
    (_with_model(based_on=7), "model_properties[0].based_on"),
    (_with_model(supported_parameters=["temprature"]), "model_properties[0].supported_parameters[0]"),
    (_with_model(supported_parameters=["temperature", "temperature"]), "model_properties[0].supported_parameters[1]"),
    (_with_model(supported_parameters=["stop", "stop_sequences"]), "model_properties[0].supported_parameters[1]"),
    (_with_model(supported_parameters="temperature"), "model_properties[0].supported_parameters"),
    (_with_model(context_window=8000), "model_properties[0].context_window"),
    (api_key_document(model_properties=[{"name": "a"}, {"name": "a", "alias": "B"}]), "model_properties[1].name"),
    (
        api_key_document(model_properties=[{"name": "a", "alias": "X"}, {"name": "b", "alias": "X"}]),
        "model_properties[1].alias",
    ),
    (api_key_document(model_properties=[{"name": "X"}, {"name": "b", "alias": "X"}]), "model_properties[1].alias"),
    (api_key_document(default_model="not-a-model"), "default_model"),
    (api_key_document(default_model="GPT 5.2"), "default_model"),
    (api_key_document(custom_header_mapping={"session_id": "X-Session"}), "custom_header_mapping.session_id"),
    (api_key_document(custom_header_mapping={"job_id": "bad header"}), "custom_header_mapping.job_id"),
    (api_key_document(custom_header_mapping={"job_id": "X-Id", "run_id": "x-id"}), "custom_header_mapping.run_id"),
    (api_key_document(custom_header_mapping=["job_id"]), "custom_header_mapping"),
    (api_key_document(headers={"X Team": "a"}), "headers.X Team"),
    (api_key_document(headers={"X-Team": "a\r\nInjected: yes"}), "headers.X-Team"),
    (api_key_document(headers={"X-Team": 5}), "headers.X-Team"),
    (api_key_document(headers={"Content-Length": "5"}), "headers.Content-Length"),
    (api_key_document(headers={f"X-H{i}": "v" for i in range(51)}), "headers"),
    (api_key_document(headers={"X-Team": "a", "x-team": "b"}), "headers.x-team"),
    (api_key_document(custom_llm_config={"file_name": "../evil.py", "class_name": "H"}), "custom_llm_config.file_name"),
    (
        api_key_document(custom_llm_config={"file_name": "sub/handler.py", "class_name": "H"}),
        "custom_llm_config.file_name",
    ),
    (
        api_key_document(custom_llm_config={"file_name": "handler.txt", "class_name": "H"}),
        "custom_llm_config.file_name",
    ),
    (
        api_key_document(custom_llm_config={"file_name": "handler.py", "class_name": "not a class"}),
        "custom_llm_config.class_name",
    ),
    (api_key_document(custom_llm_config={"file_name": "handler.py"}), "custom_llm_config.class_name"),
    (
        api_key_document(custom_llm_config={"file_name": "h.py", "class_name": "H", "init_kwargs": []}),
        "custom_llm_config.init_kwargs",
    ),
    (
        api_key_document(custom_llm_config={"file_name": "h.py", "class_name": "H", "retries": 3}),
        "custom_llm_config.retries",
    ),
    (api_key_document(api_key_headr="x"), "api_key_headr"),
    (api_key_document(Endpoint="https://x"), "Endpoint"),
]


@pytest.mark.parametrize("document", SEED_EXAMPLES[:5], ids=["step", "api_key", "bearer", "oauth2", "none"])
def test_it_accepts_every_seed_example(document):
    parsed = parse_document(document)
    assert parsed.models
    assert parsed.endpoint == document["endpoint"]


def test_it_accepts_the_seed_custom_handler_example_when_handlers_are_enabled(settings, tmp_path):
    (tmp_path / "proprietary_handler.py").write_text("# handler\n")
    settings.GALILEO_CUSTOM_LLMS_ENABLED = True
    settings.GALILEO_CUSTOM_LLMS_DIRECTORY = str(tmp_path)
    parsed = parse_document(SEED_EXAMPLES[5])
    assert parsed.custom_llm_config["init_kwargs"] == {"timeout": 60, "retry_count": 3}


def test_there_are_at_least_forty_distinct_invalid_documents():
    distinct = {json.dumps(document, sort_keys=True) for document, _ in INVALID_DOCUMENTS}
    assert len(distinct) == len(INVALID_DOCUMENTS) >= 40


@pytest.mark.parametrize(("document", "path"), INVALID_DOCUMENTS, ids=[p for _, p in INVALID_DOCUMENTS])
def test_it_rejects_an_invalid_document_with_its_path_and_writes_nothing(org, document, path):
    with pytest.raises(Invalid) as caught:
        integration_upsert(organization=org, user=None, name="custom", document=document)
    paths = [error.path for error in caught.value.errors]
    assert path in paths, paths
    assert all(error.message.endswith((".", "?")) for error in caught.value.errors)
    assert not Integration.objects.exists()
    assert not ModelProperty.objects.exists()


@pytest.mark.parametrize(("document", "path"), INVALID_DOCUMENTS[3:], ids=[p for _, p in INVALID_DOCUMENTS[3:]])
def test_an_invalid_update_leaves_the_stored_integration_untouched(org, document, path):
    original = integration_upsert(organization=org, user=None, name="custom", document=api_key_document())
    before = integration_document(integration=original, reveal_secrets=True)
    with pytest.raises(Invalid):
        integration_upsert(organization=org, user=None, name="custom", document=document)
    after = integration_document(integration=Integration.objects.get(pk=original.pk), reveal_secrets=True)
    assert after == before


def test_it_never_echoes_a_secret_in_an_error(org):
    document = _oauth2(token="{not json but SECRET-CLIENT-SECRET-123")
    with pytest.raises(Invalid) as caught:
        integration_upsert(organization=org, user=None, name="custom", document=document)
    assert "SECRET-CLIENT-SECRET-123" not in repr([e.as_dict() for e in caught.value.errors])


def test_it_reports_every_rule_problem_at_once():
    document = api_key_document(endpoint="ftp://x", default_model="nope", headers={"bad name": "v"})
    with pytest.raises(Invalid) as caught:
        parse_document(document)
    assert {"endpoint", "default_model", "headers.bad name"} <= {e.path for e in caught.value.errors}


def test_it_suggests_the_closest_builtin_alias():
    with pytest.raises(Invalid) as caught:
        parse_document(_with_model(based_on="claude opus 4.6"))
    assert "Claude Opus 4.6" in caught.value.errors[0].message


def test_it_uses_the_default_parameters_when_the_model_names_none():
    parsed = parse_document(_with_model())
    assert parsed.models[0].supported_parameters == list(DEFAULT_PARAMETERS)
    assert "stop_sequences" in parsed.models[0].supported_parameters


def test_it_copies_parameters_from_based_on():
    parsed = parse_document(_with_model(based_on="o3"))
    assert "reasoning_effort" in parsed.models[0].supported_parameters
    assert "temperature" not in parsed.models[0].supported_parameters


def test_it_accepts_stop_as_stop_sequences():
    parsed = parse_document(_with_model(supported_parameters=["stop", "temperature"]))
    assert parsed.models[0].supported_parameters == ["stop_sequences", "temperature"]


def test_alias_defaults_to_name_and_default_model_to_the_first():
    parsed = parse_document(api_key_document(model_properties=[{"name": "a"}, {"name": "b"}]))
    assert [m.alias for m in parsed.models] == ["a", "b"]
    assert parsed.default_model == "a"


def test_oauth2_token_url_defaults_to_the_endpoint(org):
    document = _oauth2()
    del document["oauth2_token_url"]
    integration = integration_upsert(organization=org, user=None, name="custom", document=document)
    assert integration.token_url == document["endpoint"]


def test_an_alias_is_unique_across_the_organisations_integrations(org, other_org):
    integration_upsert(organization=org, user=None, name="first", document=api_key_document())
    with pytest.raises(Invalid) as caught:
        integration_upsert(organization=org, user=None, name="second", document=api_key_document())
    assert "model_properties[0].alias" in [e.path for e in caught.value.errors]
    assert Integration.objects.filter(organization=org).count() == 1
    # Another organisation may use the same aliases.
    integration_upsert(organization=other_org, user=None, name="first", document=api_key_document())


def test_it_refuses_custom_handlers_when_they_are_disabled(org, settings):
    settings.GALILEO_CUSTOM_LLMS_ENABLED = False
    with pytest.raises(Invalid) as caught:
        integration_upsert(organization=org, user=None, name="custom", document=SEED_EXAMPLES[5])
    assert caught.value.errors[0].path == "custom_llm_config.file_name"
    assert "GALILEO_CUSTOM_LLMS_ENABLED" in caught.value.errors[0].message


def test_it_refuses_a_missing_handler_file_or_a_symlink_out_of_the_directory(org, settings, tmp_path):
    handlers = tmp_path / "handlers"
    handlers.mkdir()
    (tmp_path / "outside.py").write_text("# not in the directory\n")
    (handlers / "link.py").symlink_to(tmp_path / "outside.py")
    settings.GALILEO_CUSTOM_LLMS_ENABLED = True
    settings.GALILEO_CUSTOM_LLMS_DIRECTORY = str(handlers)
    for file_name, words in [("proprietary_handler.py", "not found"), ("link.py", "outside")]:
        document = copy.deepcopy(SEED_EXAMPLES[5])
        document["custom_llm_config"]["file_name"] = file_name
        with pytest.raises(Invalid) as caught:
            integration_upsert(organization=org, user=None, name="custom", document=document)
        assert words in caught.value.errors[0].message
    assert not Integration.objects.exists()


def test_it_rejects_a_name_that_is_not_a_slug(org):
    with pytest.raises(Invalid) as caught:
        integration_upsert(organization=org, user=None, name="my integration", document=api_key_document())
    assert caught.value.errors[0].path == "name"


def test_a_header_name_longer_than_its_column_is_an_error(org):
    with pytest.raises(Invalid) as caught:
        integration_upsert(
            organization=org, user=None, name="custom", document=api_key_document(api_key_header="x" * 300)
        )
    assert caught.value.errors[0].path == "api_key_header"
