"""The new-evaluation form's typed JSON parameters take Python's JSON extensions (NaN,
Infinity), which RFC 8259 and PostgreSQL's jsonb do not: the API's parser refuses them (api/parsers.py), the form
must too, on the field, with nothing saved."""

import re

from evaluations.models import Evaluation
from runners.models import Run
from tests.evaluations.conftest import logged_in
from tests.evaluations.test_evaluation_form_and_metric_pages import typed_integration

SCHEMA_WITH_NAN = (
    '{"type": "json_schema", "json_schema": {"name": "answer", '
    '"schema": {"type": "object", "properties": {"n": {"type": "number", "maximum": NaN}}}}}'
)


def test_a_json_parameter_with_nan_is_an_error_on_its_field_not_saved(
    member_user, provider, openai_server, make_dataset
):
    typed_integration(provider.organization, member_user, openai_server.url)
    dataset = make_dataset(1, user=member_user)
    response = logged_in(member_user).post(
        "/evaluations/new",
        {
            "dataset": str(dataset.uuid),
            "prompt": "{{question}}",
            "models": ["model-t"],
            "parameters:model-t:response_format": SCHEMA_WITH_NAN,
        },
    )
    # Today: on SQLite the evaluation is saved with NaN in model_columns and its runs send a body no JSON parser
    # reads; on PostgreSQL the INSERT into jsonb fails (500).
    assert response.status_code == 422, response.status_code
    assert not Evaluation.objects.exists() and not Run.objects.exists()
    html = response.content.decode()
    assert re.search(r'id="param-\d+-response_format_error"><li>[^<]*(JSON|NaN)', html), html[:3000]


RESPONSE_FORMAT_NAN = {
    "type": "json_schema",
    "json_schema": {"name": "a", "schema": {"type": "object", "properties": {"n": {"maximum": float("nan")}}}},
}


def test_the_metric_edit_page_refuses_nan_in_judge_parameters(org, admin_user, judge_integration, make_metric):
    # The judge model must support response_format for the parameter to be checked at all: model-a does not, so
    # use the metric form's raw JSON box, read by evaluations.forms (json.loads, NaN accepted).
    metric = make_metric()
    response = logged_in(admin_user).post(
        f"/evaluations/metrics/{metric.uuid}/edit",
        {
            "name": "Correctness",
            "judge_model": metric.judge_model,
            "judges": "1",
            "prompt": metric.prompt,
            "parameters": '{"response_format": ' + SCHEMA_WITH_NAN + "}",
        },
    )
    assert response.status_code in (200, 422), response.status_code  # the form again, with the problem
    assert "NaN" in response.content.decode() or "JSON" in response.content.decode()


def test_a_playground_run_with_nan_in_a_parameter_is_refused(member_user, provider):
    import json

    body = json.dumps(
        {
            "messages": [{"role": "user", "content": "Hi"}],
            "columns": [{"model": "model-a", "parameters": {"response_format": RESPONSE_FORMAT_NAN}}],
        }
    )
    response = logged_in(member_user).post("/playground/runs", body, content_type="application/json")
    assert response.status_code in (400, 422), response.status_code
    assert not Run.objects.exists()


def test_validate_parameters_names_a_non_finite_number_at_its_path():
    import pytest

    from core.problems import Invalid
    from runners.parameters import validate_parameters

    tools = [{"type": "function", "function": {"name": "f", "parameters": {"minimum": float("-inf")}}}]
    with pytest.raises(Invalid) as caught:
        validate_parameters({"temperature": 1, "tools": tools, "response_format": RESPONSE_FORMAT_NAN})
    assert [(error.loc, error.type) for error in caught.value.errors] == [
        (("parameters", "tools", 0, "function", "parameters", "minimum"), "finite_number"),
        (("parameters", "response_format", "json_schema", "schema", "properties", "n", "maximum"), "finite_number"),
    ]
    with pytest.raises(Invalid):
        validate_parameters({"temperature": float("nan")})
    assert validate_parameters({"temperature": 1.5, "tools": [{"type": "function", "x": 1e308}]})["temperature"] == 1.5


def test_parameter_fields_read_as_strict_json():
    import pytest

    from runners.parameter_specs import parameter_from_text, parameter_specs

    specs = parameter_specs()
    for text in ("NaN", "-Infinity", "1e999"):
        with pytest.raises(ValueError, match="number"):
            parameter_from_text(specs["temperature"], text)
    for text in ('{"a": NaN}', '{"a": Infinity}', '{"a": 1e999}'):
        with pytest.raises(ValueError, match="Not valid JSON"):
            parameter_from_text(specs["response_format"], text)
    assert parameter_from_text(specs["response_format"], '{"type": "json_object"}') == {"type": "json_object"}


def test_a_playground_draft_with_nan_is_refused(member_user, provider):
    response = logged_in(member_user).put(
        "/playground/draft", '{"columns": [{"parameters": {"temperature": NaN}}]}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["detail"][0]["msg"] == "Not valid JSON: NaN is not valid JSON."


def test_an_integration_document_with_nan_is_invalid_json(org, admin_user):
    import pytest

    from core.problems import Invalid
    from integrations.services import integration_upsert

    text = '{"endpoint": "https://example.com/v1", "model_properties": [{"name": "m", "alias": "M"}], "x": NaN}'
    with pytest.raises(Invalid) as caught:
        integration_upsert(organization=org, user=admin_user, name="nan", document=text)
    assert caught.value.errors[0].message == "Not valid JSON: NaN is not valid JSON."
