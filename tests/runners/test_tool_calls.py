"""Tool calls: a plain answer's `tool_calls` and a stream's fragments merged by index into whole calls, stored on
the Run in OpenAI's shape; `finish_reason: "tool_calls"` is a success."""

from tests.fixtures.servers import EventStream, Reply
from tests.runners.conftest import provider_document

WEATHER = {"id": "call_abc", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}


def completion(message: dict, finish_reason="tool_calls") -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 7, "total_tokens": 16}}  # fmt: skip


def chunk(delta: dict, finish_reason=None) -> dict:
    return {"id": "c1", "object": "chat.completion.chunk", "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}  # fmt: skip


def run_with(execute, openai_server, integrate, enqueue, answer, *, stream=False):
    openai_server.enqueue(answer)
    return execute(enqueue(integrate(provider_document(openai_server.url)), stream=stream))


def test_a_plain_answer_with_tool_calls_and_null_content_is_a_success(execute, openai_server, integrate, enqueue):
    second = {"id": "call_def", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
    answer = Reply(json=completion({"role": "assistant", "content": None, "tool_calls": [WEATHER, second]}))
    run = run_with(execute, openai_server, integrate, enqueue, answer)

    assert run.status == "succeeded", run.error_message
    assert run.finish_reason == "tool_calls"
    assert run.tool_calls == [WEATHER, second]
    assert run.output == ""
    assert run.response["choices"][0]["message"]["tool_calls"] == [WEATHER, second]


def test_arguments_sent_as_an_object_are_stored_as_json_text(execute, openai_server, integrate, enqueue):
    call = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": {"q": "x"}}}
    answer = Reply(json=completion({"role": "assistant", "content": "", "tool_calls": [call]}))
    run = run_with(execute, openai_server, integrate, enqueue, answer)

    assert run.tool_calls == [
        {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": '{"q": "x"}'}}
    ]


def test_streamed_fragments_of_two_parallel_calls_are_merged_by_index(execute, openai_server, integrate, enqueue):
    # OpenAI's shape: id, type and name in each call's first fragment; arguments in pieces, calls interleaved.
    events = [
        chunk({"role": "assistant", "content": None}),
        chunk({"tool_calls": [{"index": 0, "id": "call_abc", "type": "function",
                               "function": {"name": "get_weather", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}]}),
        chunk({"tool_calls": [{"index": 1, "id": "call_def", "type": "function",
                               "function": {"name": "get_time", "arguments": '{"tz": '}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'ty": "Paris"}'}}]}),
        chunk({"tool_calls": [{"index": 1, "function": {"arguments": '"UTC"}'}}]}),
        chunk({}, "tool_calls"),
        "[DONE]",
    ]  # fmt: skip
    run = run_with(execute, openai_server, integrate, enqueue, EventStream(events), stream=True)

    assert run.status == "succeeded", run.error_message
    assert run.finish_reason == "tool_calls"
    assert run.tool_calls == [
        WEATHER,
        {"id": "call_def", "type": "function", "function": {"name": "get_time", "arguments": '{"tz": "UTC"}'}},
    ]
    assert run.output == ""
    assert run.response["choices"][0]["message"] == {"role": "assistant", "content": None, "tool_calls": run.tool_calls}


def test_ids_and_names_repeated_in_every_fragment_are_not_concatenated(execute, openai_server, integrate, enqueue):
    # vLLM and some gateways repeat id, type and name with each piece of the arguments.
    pieces = ['{"city"', ': "Paris"}']
    events = [
        chunk({"tool_calls": [{"index": 0, "id": "call_abc", "type": "function",
                               "function": {"name": "get_weather", "arguments": piece}}]})
        for piece in pieces
    ] + [chunk({}, "tool_calls"), "[DONE]"]  # fmt: skip
    run = run_with(execute, openai_server, integrate, enqueue, EventStream(events), stream=True)

    assert run.tool_calls == [WEATHER]


def test_calls_of_a_parallel_batch_all_numbered_zero_stay_apart(execute, openai_server, integrate, enqueue):
    # Ollama sends index 0 for every call of a parallel batch, each with its own id.
    second = {"id": "call_def", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
    events = [chunk({"tool_calls": [{"index": 0, **WEATHER}]}), chunk({"tool_calls": [{"index": 0, **second}]}),
              chunk({}, "tool_calls")]  # fmt: skip
    run = run_with(execute, openai_server, integrate, enqueue, EventStream(events), stream=True)

    assert run.tool_calls == [WEATHER, second]


def test_fragments_without_an_index_open_a_call_per_new_id(execute, openai_server, integrate, enqueue):
    events = [
        chunk({"tool_calls": [{"id": "call_abc", "type": "function", "function": {"name": "get_weather"}}]}),
        chunk({"tool_calls": [{"function": {"arguments": '{"city": "Paris"}'}}]}),
        chunk({"tool_calls": [{"id": "call_def", "function": {"name": "get_time", "arguments": "{}"}}]}),
        chunk({}, "tool_calls"),
        "[DONE]",
    ]
    run = run_with(execute, openai_server, integrate, enqueue, EventStream(events), stream=True)

    assert run.tool_calls == [
        WEATHER,
        {"id": "call_def", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
    ]


def test_text_and_a_tool_call_in_one_stream_are_both_kept(execute, openai_server, integrate, enqueue):
    events = [
        chunk({"content": "Let me check."}),
        chunk({"tool_calls": [{"index": 0, **WEATHER}]}),
        chunk({}, "tool_calls"),
    ]
    run = run_with(execute, openai_server, integrate, enqueue, EventStream(events), stream=True)

    assert (run.output, run.tool_calls) == ("Let me check.", [WEATHER])


def test_a_run_without_tool_calls_stores_none(execute, openai_server, integrate, enqueue):
    run = execute(enqueue(integrate(provider_document(openai_server.url)), stream=True))

    assert run.status == "succeeded"
    assert run.tool_calls is None
    assert run.reasoning is None
