"""Reasoning: `reasoning_content` (DeepSeek, vLLM) and `reasoning` (OpenRouter), plain and streamed, stored as the
Run's `reasoning`; an answer that stops on `length` before any content fails as `length_without_answer`."""

import pytest

from tests.fixtures.servers import EventStream, Reply
from tests.runners.conftest import provider_document


def completion(message: dict, finish_reason="stop", usage=None) -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish_reason}],
            "usage": usage or {"prompt_tokens": 5, "completion_tokens": 40, "total_tokens": 45}}  # fmt: skip


def chunk(delta: dict, finish_reason=None) -> dict:
    return {"id": "c1", "object": "chat.completion.chunk", "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}  # fmt: skip


def run_with(execute, openai_server, integrate, enqueue, answer, *, stream=False):
    openai_server.enqueue(answer)
    return execute(enqueue(integrate(provider_document(openai_server.url)), stream=stream))


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_in_a_plain_answer_is_stored(execute, openai_server, integrate, enqueue, field):
    answer = Reply(json=completion({"content": "42", field: "The user asks... 6 times 7."}))
    run = run_with(execute, openai_server, integrate, enqueue, answer)

    assert run.status == "succeeded", run.error_message
    assert (run.output, run.reasoning) == ("42", "The user asks... 6 times 7.")


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_streamed_reasoning_is_assembled(execute, openai_server, integrate, enqueue, field):
    events = [
        chunk({"role": "assistant", field: "Thinking"}),
        chunk({field: " hard.", "content": None}),
        chunk({"content": "Done"}),
        chunk({}, "stop"),
        "[DONE]",
    ]
    run = run_with(execute, openai_server, integrate, enqueue, EventStream(events), stream=True)

    assert run.status == "succeeded", run.error_message
    assert (run.output, run.reasoning) == ("Done", "Thinking hard.")
    assert run.response["choices"][0]["message"]["reasoning_content"] == "Thinking hard."


def test_an_empty_answer_cut_on_length_fails_and_keeps_the_reasoning(execute, openai_server, integrate, enqueue):
    answer = Reply(json=completion({"content": None, "reasoning_content": "Let me think step by step"}, "length"))
    run = run_with(execute, openai_server, integrate, enqueue, answer)

    assert run.status == "failed"
    assert run.error_type == "length_without_answer"
    assert run.error_message == (
        'The model stopped at its token limit (finish_reason "length") after 40 completion tokens (all of them on '
        "reasoning) before writing any answer: raise max_tokens, or lower the reasoning effort."
    )
    assert run.reasoning == "Let me think step by step"
    assert run.usage == {"prompt_tokens": 5, "completion_tokens": 40, "total_tokens": 45}
    assert run.finish_reason == "length"
    assert run.attempts == 1
    assert run.attempt_log[0]["error_type"] == "length_without_answer"


def test_a_streamed_empty_answer_cut_on_length_fails_too(execute, openai_server, integrate, enqueue):
    events = [chunk({"reasoning_content": "Hmm"}), chunk({}, "length"), "[DONE]"]
    run = run_with(execute, openai_server, integrate, enqueue, EventStream(events), stream=True)

    assert (run.status, run.error_type, run.reasoning) == ("failed", "length_without_answer", "Hmm")


def test_a_cut_answer_with_some_content_or_a_tool_call_still_succeeds(execute, openai_server, integrate, enqueue):
    run = run_with(execute, openai_server, integrate, enqueue, Reply(json=completion({"content": "Half an"}, "length")))
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{"}}
    cut_call = Reply(json=completion({"content": None, "tool_calls": [call]}, "length"))
    with_call = run_with(execute, openai_server, integrate, enqueue, cut_call)

    assert (run.status, run.output, run.finish_reason) == ("succeeded", "Half an", "length")
    assert (with_call.status, with_call.tool_calls) == ("succeeded", [call])
