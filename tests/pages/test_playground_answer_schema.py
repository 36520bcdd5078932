"""The answer checked against its response_format (playground.answer_schema), as the Playground's run read gives it."""

import json

import pytest

from playground.answer_schema import answer_schema_check
from runners.models import Run, RunStatus

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "array", "items": {"type": "integer"}}},
    "required": ["city", "days"],
    "additionalProperties": False,
}
JSON_SCHEMA = {"type": "json_schema", "json_schema": {"name": "forecast", "schema": SCHEMA, "strict": True}}


def run(output, response_format=JSON_SCHEMA, status=RunStatus.SUCCEEDED, tool_calls=None) -> Run:
    return Run(output=output, parameters={"response_format": response_format}, status=status, tool_calls=tool_calls)


def test_an_answer_matching_the_schema_is_valid():
    assert answer_schema_check(run(json.dumps({"city": "Paris", "days": [1, 2]}))) == {
        "format": "json_schema",
        "valid": True,
        "errors": [],
    }


def test_each_mismatch_is_listed_with_its_path():
    check = answer_schema_check(run(json.dumps({"city": 7, "days": [1, "two"], "extra": True})))
    assert check["valid"] is False
    assert check["errors"] == [
        {"path": "$", "message": "Additional properties are not allowed ('extra' was unexpected)"},
        {"path": "$.city", "message": "7 is not of type 'string'"},
        {"path": "$.days[1]", "message": "'two' is not of type 'integer'"},
    ]


@pytest.mark.parametrize(
    ("output", "response_format", "message"),
    [
        ("Sure! {", JSON_SCHEMA, "The answer is not JSON (Expecting value, at character 0)."),
        ("[1]", {"type": "json_object"}, "The answer is JSON but not an object."),
        ("{}", {"type": "json_schema", "json_schema": {"name": "x"}}, "The response format has no schema"),
        ("{}", {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": 5}}}, "The schema itself"),
    ],
)
def test_what_cannot_be_checked_is_one_error_at_the_root(output, response_format, message):
    (error,) = answer_schema_check(run(output, response_format))["errors"]
    assert error["path"] == "$" and error["message"].startswith(message)


def test_nothing_is_checked_without_a_structured_format_or_a_finished_answer():
    assert answer_schema_check(run('{"a": 1}', {"type": "json_object"}))["valid"] is True
    assert answer_schema_check(run("hi", {"type": "text"})) is None
    assert answer_schema_check(run("hi", None)) is None
    assert answer_schema_check(run('{"city"', status=RunStatus.FAILED)) is None
    assert answer_schema_check(run(None, tool_calls=[{"id": "c"}])) is None  # a tool call, not the answer yet
