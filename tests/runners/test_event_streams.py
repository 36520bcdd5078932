"""Event streams parsed as the WHATWG HTML standard's "server-sent events" says, against the real test provider
writing raw bytes: line ends, comments, fields, several data lines, network writes cut anywhere, no [DONE]."""

import json

from runners.event_stream import EventStreamParser, ServerSentEvent
from tests.fixtures.servers import EventStream, Pause
from tests.runners.conftest import provider_document


def chunk(content=None, finish_reason=None, **delta) -> dict:
    if content is not None:
        delta["content"] = content
    return {"id": "c1", "object": "chat.completion.chunk", "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}  # fmt: skip


def data(payload) -> str:
    return payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)


def streamed(execute, openai_server, integrate, enqueue, answer):
    openai_server.enqueue(answer)
    return execute(enqueue(integrate(provider_document(openai_server.url)), stream=True))


def test_crlf_line_ends_comments_and_id_retry_event_fields_are_understood(execute, openai_server, integrate, enqueue):
    body = (
        ": keep-alive comment\r\n\r\n"
        "retry: 3000\r\nid: 1\r\nevent: message\r\n"
        f"data: {data(chunk('Hello'))}\r\n\r\n"
        ":another comment\r\n"
        f"id: 2\r\ndata: {data(chunk(' world', 'stop'))}\r\n\r\n"
        "data: [DONE]\r\n\r\n"
    )
    run = streamed(execute, openai_server, integrate, enqueue, EventStream(raw=[body.encode()]))

    assert run.status == "succeeded", run.error_message
    assert run.output == "Hello world"
    assert run.finish_reason == "stop"


def test_cr_only_line_ends_are_line_ends(execute, openai_server, integrate, enqueue):
    body = f"data: {data(chunk('A'))}\r\rdata: {data(chunk('B', 'stop'))}\r\rdata: [DONE]\r\r"
    run = streamed(execute, openai_server, integrate, enqueue, EventStream(raw=[body.encode()]))

    assert run.output == "AB"


def test_several_data_lines_of_one_event_are_joined_with_a_newline(execute, openai_server, integrate, enqueue):
    # One JSON chunk written over three data: lines (its own line breaks are JSON whitespace).
    pretty = json.dumps(chunk("multi-line", "stop"), indent=1).splitlines()
    event = "".join(f"data: {line}\n" for line in pretty) + "\n"
    run = streamed(execute, openai_server, integrate, enqueue, EventStream(raw=[event.encode(), b"data: [DONE]\n\n"]))

    assert len(pretty) > 3
    assert run.status == "succeeded", run.error_message
    assert run.output == "multi-line"


def test_network_writes_cut_anywhere_even_between_cr_and_lf_and_inside_a_character(
    execute, openai_server, integrate, enqueue
):
    body = f"data: {data(chunk('héllo '))}\r\n\r\ndata: {data(chunk('wörld', 'stop'))}\r\n\r\ndata: [DONE]\r\n\r\n"
    raw = body.encode()
    cut_at_cr = raw.index(b"\r\n") + 1
    cut_in_char = raw.index("ö".encode()) + 1
    pieces = [raw[:cut_at_cr], Pause(0.05), raw[cut_at_cr:cut_in_char], Pause(0.05), raw[cut_in_char:]]
    run = streamed(execute, openai_server, integrate, enqueue, EventStream(raw=pieces))

    assert run.status == "succeeded", run.error_message
    assert run.output == "héllo wörld"


def test_a_stream_that_ends_without_done_keeps_every_complete_event(execute, openai_server, integrate, enqueue):
    body = f"data: {data(chunk('complete', 'stop'))}\n\ndata: {data(chunk(' cut off'))}"  # no blank line: discarded
    run = streamed(execute, openai_server, integrate, enqueue, EventStream(raw=[body.encode()]))

    assert run.status == "succeeded", run.error_message
    assert run.output == "complete"


def test_a_leading_bom_data_without_a_space_and_unicode_line_separators_in_text(
    execute, openai_server, integrate, enqueue
):
    # U+2028 is legal raw inside a JSON string and is no line end for SSE (only CR and LF are).
    text = json.dumps(chunk("a\u2028b\u2029c", "stop"), ensure_ascii=False)
    assert "\u2028" in text
    body = "\ufeff" + "data:" + text + "\n\ndata:[DONE]\n\n"
    run = streamed(execute, openai_server, integrate, enqueue, EventStream(raw=[body.encode()]))

    assert run.status == "succeeded", run.error_message
    assert run.output == "a\u2028b\u2029c"


def test_null_deltas_and_empty_choices_are_skipped(execute, openai_server, integrate, enqueue):
    events = [
        {"id": "c1", "object": "chat.completion.chunk", "choices": []},
        chunk("Hi"),
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": None, "finish_reason": "stop"}],
        },
        {"id": "c1", "choices": [], "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}},
        "[DONE]",
    ]
    run = streamed(execute, openai_server, integrate, enqueue, EventStream(events))

    assert run.status == "succeeded", run.error_message
    assert (run.output, run.finish_reason, run.usage["total_tokens"]) == ("Hi", "stop", 3)


def test_an_error_event_in_the_middle_fails_with_the_providers_words_and_keeps_the_output(
    execute, openai_server, integrate, enqueue
):
    error = {"error": {"message": "Upstream overloaded for key sk-test-ABC123xyz", "code": "server_error"}}
    body = f"data: {data(chunk('Partial'))}\n\nevent: error\ndata: {data(error)}\n\n"
    run = streamed(execute, openai_server, integrate, enqueue, EventStream(raw=[body.encode()]))

    assert run.status == "failed"
    assert run.error_type == "provider_error"
    assert run.output == "Partial"
    assert "sk-test-ABC123xyz" not in run.error_message
    assert run.error_message.startswith(
        'The provider reported an error in the middle of the stream with HTTP 200 (error code "server_error"): '
        '"Upstream overloaded for key '
    )
    assert len(openai_server.completion_requests) == 1
    assert run.attempts == 1


def test_openrouters_error_chunk_after_output_fails_keeping_it(execute, openai_server, integrate, enqueue):
    # https://openrouter.ai/docs/api-reference/errors#mid-stream-errors: a chunk with a top-level error object
    # and finish_reason "error", after HTTP 200 was committed.
    error_chunk = {
        "id": "gen-1",
        "object": "chat.completion.chunk",
        "error": {"code": "server_error", "message": "Provider disconnected", "metadata": {"error_type": "x"}},
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
    }
    run = streamed(execute, openai_server, integrate, enqueue, EventStream([chunk("Some text"), error_chunk]))

    assert (run.status, run.error_type, run.output) == ("failed", "provider_error", "Some text")
    assert '"Provider disconnected"' in run.error_message
    assert len(openai_server.completion_requests) == 1


def test_finish_reason_error_without_an_error_object_is_a_failure(execute, openai_server, integrate, enqueue):
    events = [chunk("Half"), chunk(None, "error")]
    run = streamed(execute, openai_server, integrate, enqueue, EventStream(events))

    assert (run.status, run.error_type, run.output) == ("failed", "provider_error", "Half")
    assert run.error_message == 'The provider ended the answer with finish_reason "error" and no error message.'


def test_an_error_event_with_plain_text_data_is_a_failure_with_that_text(execute, openai_server, integrate, enqueue):
    body = f"data: {data(chunk('So far'))}\n\nevent: error\ndata: connection to upstream lost\n\n"
    run = streamed(execute, openai_server, integrate, enqueue, EventStream(raw=[body.encode()]))

    assert run.status == "failed"
    assert run.output == "So far"
    assert '"connection to upstream lost"' in run.error_message


def test_the_parser_follows_the_specifications_field_rules():
    parser = EventStreamParser()
    events = parser.feed("data\n\nid: 7\nretry: x1\nretry: 10\nfoo: ignored\nevent: update\ndata:  two spaces\n")
    events += parser.feed("\n\n\ndata: after\r")
    events += parser.feed("\n\r\n")

    assert events == [
        ServerSentEvent(event="message", data="", id="", retry=None),  # "data" alone: an empty data line
        ServerSentEvent(event="update", data=" two spaces", id="7", retry=10),
        ServerSentEvent(event="message", data="after", id="7", retry=10),
    ]


def test_an_error_after_only_a_role_chunk_and_keep_alives_is_retried(execute, openai_server, integrate, enqueue):
    # Nothing of the answer had come yet: sending the request again cannot duplicate output.
    body = f": ping\n\ndata: {data(chunk(None, role='assistant'))}\n\ndata: {data({'error': {'code': 503}})}\n\n"
    run = streamed(execute, openai_server, integrate, enqueue, EventStream(raw=[body.encode()]))

    assert run.status == "succeeded", run.error_message
    assert [attempt["error_type"] for attempt in run.attempt_log] == ["provider_error", None]
    assert run.output == "echo: Hello there"
