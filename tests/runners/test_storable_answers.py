"""Any answer is stored, or the run fails at once: text and JSON PostgreSQL cannot hold are made storable in the same
attempt (runners/storable.py), and a value the database still refuses fails the run as `unstorable_answer` instead
of leaving it `running`. CI runs this on PostgreSQL (DATABASE_URL), where NUL and NaN are refused."""

import json

import pytest
from django.db import connection

from runners.storable import DEEP_PLACEHOLDER, MAX_STORED_DEPTH
from tests.fixtures.servers import EventStream, Reply
from tests.runners.conftest import provider_document


def raw_completion(message_json: str, extra: str = "") -> Reply:
    body = (
        '{"id": "chatcmpl-1", "object": "chat.completion", "model": "m"' + extra + ', "choices": [{"index": 0, '
        '"message": ' + message_json + ', "finish_reason": "stop"}], '
        '"usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}'
    )
    return Reply(body=body, content_type="application/json")


def run_with(execute, openai_server, integrate, enqueue, answer, *, stream=False):
    openai_server.enqueue(answer)
    return execute(enqueue(integrate(provider_document(openai_server.url)), stream=stream))


def test_nul_and_lone_surrogates_in_text_become_replacement_characters(execute, openai_server, integrate, enqueue):
    message = (
        r'{"role": "assistant", "content": "a\u0000b\ud800c", "reasoning_content": "think\u0000ing", '
        r'"tool_calls": [{"id": "call\u0000", "type": "function", '
        r'"function": {"name": "f", "arguments": "{\"x\": \"\u0000\udfff\"}"}}]}'
    )
    run = run_with(execute, openai_server, integrate, enqueue, raw_completion(message, r', "x_note\u0000": "n\u0000"'))

    assert run.status == "succeeded", run.error_message
    assert run.output == "a\ufffdb\ufffdc"
    assert run.reasoning == "think\ufffding"
    assert run.tool_calls == [
        {"id": "call\ufffd", "type": "function", "function": {"name": "f", "arguments": '{"x": "\ufffd\ufffd"}'}}
    ]
    assert run.response["x_note\ufffd"] == "n\ufffd"


def test_nan_infinity_huge_numbers_and_deep_nesting_are_made_storable(execute, openai_server, integrate, enqueue):
    huge = "9" * 5000
    deep = "[" * 200 + "1" + "]" * 200
    extra = f', "x_nan": NaN, "x_inf": -Infinity, "x_overflow": 1e999, "x_huge": {huge}, "x_deep": {deep}'
    run = run_with(execute, openai_server, integrate, enqueue, raw_completion('{"content": "ok"}', extra))

    assert run.status == "succeeded", run.error_message
    assert run.output == "ok"
    # NaN and infinities are null, left out of the stored response like every null the provider's fields hold.
    assert [run.response.get(key) for key in ("x_nan", "x_inf", "x_overflow")] == [None, None, None]
    assert run.response["x_huge"] == huge
    nested, depth = run.response["x_deep"], 1
    while isinstance(nested, list):
        nested, depth = nested[0], depth + 1
    assert nested == DEEP_PLACEHOLDER
    assert depth == MAX_STORED_DEPTH


def test_a_finish_reason_longer_than_its_column_is_cut(execute, openai_server, integrate, enqueue):
    answer = raw_completion('{"content": "ok"}').body.replace('"stop"', '"' + "x" * 100 + '"')
    run = run_with(execute, openai_server, integrate, enqueue, Reply(body=answer, content_type="application/json"))

    assert run.status == "succeeded", run.error_message
    assert run.finish_reason == "x" * 64


def test_a_streamed_answer_with_nul_is_stored(execute, openai_server, integrate, enqueue):
    chunk = {"id": "c", "choices": [{"index": 0, "delta": {"content": "x\u0000y"}, "finish_reason": "stop"}]}
    run = run_with(execute, openai_server, integrate, enqueue, EventStream([chunk, "[DONE]"]), stream=True)

    assert (run.status, run.output) == ("succeeded", "x\ufffdy")


def test_json_nested_deeper_than_the_parser_goes_fails_at_once(execute, openai_server, integrate, enqueue):
    body = '{"choices": ' + "[" * 100_000 + "]" * 100_000 + "}"
    run = run_with(execute, openai_server, integrate, enqueue, Reply(body=body, content_type="application/json"))

    assert run.status == "failed"
    assert run.error_type == "invalid_response"
    assert run.attempts == 1


def test_an_answer_the_database_still_refuses_fails_the_run_in_the_same_attempt(
    execute, openai_server, integrate, enqueue, monkeypatch
):
    # As if a case slipped through runners.storable: the lone surrogate reaches the driver, which cannot encode it.
    monkeypatch.setattr("runners.storing.storable_text", lambda text: text)
    run = run_with(execute, openai_server, integrate, enqueue, raw_completion(r'{"content": "bad \ud800"}'))

    assert run.status == "failed"
    assert run.error_type == "unstorable_answer"
    assert run.error_message.startswith("The database refused to store the provider's answer (")
    assert run.output is None
    assert run.finished_at is not None
    assert run.attempt_log[0]["status_code"] == 200


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite stores the NUL that PostgreSQL refuses")
def test_postgresql_refusing_nul_fails_the_run_instead_of_leaving_it_running(
    execute, openai_server, integrate, enqueue, monkeypatch
):
    monkeypatch.setattr("runners.storing.storable_json", lambda value, **_: value)
    monkeypatch.setattr("runners.storing.storable_text", lambda text: text)
    run = run_with(execute, openai_server, integrate, enqueue, raw_completion(r'{"content": "a\u0000b"}'))

    assert (run.status, run.error_type) == ("failed", "unstorable_answer")
    assert "DataError" in run.error_message
    assert run.finished_at is not None


def test_the_stored_response_is_valid_json_for_any_reader(execute, openai_server, integrate, enqueue):
    run = run_with(
        execute, openai_server, integrate, enqueue, raw_completion('{"content": "ok"}', ', "x": [NaN, 1e999]')
    )

    assert run.response["x"] == [None, None]
    json.dumps(run.response, allow_nan=False)  # raises on NaN or Infinity
