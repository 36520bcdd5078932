"""Streaming runs: SSE parsed into one output, partial output readable while the run is running."""

import time

from django.core.cache import cache

from runners.live_output import live_output_key
from runners.models import Run
from runners.presenters import run_representation
from runners.selectors import run_live_output
from tests.fixtures.servers import Echo, EventStream, Pause
from tests.fixtures.worker import wait_for_run
from tests.runners.conftest import provider_document, sent_headers


def chunk(content=None, finish_reason=None, **extra) -> dict:
    delta = {"content": content} if content is not None else {}
    return {"id": "c1", "object": "chat.completion.chunk", "model": "m", **extra,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}  # fmt: skip


def test_a_streamed_answer_is_assembled_into_the_output(execute, openai_server, integrate, enqueue):
    run = execute(enqueue(integrate(provider_document(openai_server.url)), stream=True))

    assert run.status == "succeeded", run.error_message
    assert run.output == "echo: Hello there"
    assert run.finish_reason == "stop"
    (received,) = openai_server.completion_requests
    assert received.json["stream"] is True
    # Usage comes in a last chunk only when asked for (OpenAI's stream_options.include_usage).
    assert received.json["stream_options"] == {"include_usage": True}
    assert sent_headers(received)["accept"] == "text/event-stream"
    assert run.request["body"] == received.json
    assert run.response["choices"][0]["message"] == {"role": "assistant", "content": "echo: Hello there"}
    assert run.response["streamed_chunks"] == 6
    assert run.usage == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}


def test_the_time_to_first_token_is_stored_and_read_back(execute, openai_server, integrate, enqueue):
    # The provider sends its headers, then waits FIRST_DELAY before the first text, and WRITING after it.
    first_delay, writing = 0.3, 0.2
    usage = {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}
    openai_server.enqueue(
        EventStream(
            [
                {"id": "c1", "object": "chat.completion.chunk", "model": "m",
                 "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]},
                Pause(first_delay),
                chunk("Hi"),
                Pause(writing),
                chunk(" you", "stop"),
                {"id": "c1", "choices": [], "usage": usage},
                "[DONE]",
            ]
        )
    )  # fmt: skip
    run = execute(enqueue(integrate(provider_document(openai_server.url)), stream=True))

    assert run.status == "succeeded", run.error_message
    # A chunk with only the role is not output: the clock runs until "Hi".
    assert first_delay * 1000 <= run.time_to_first_token_ms < run.latency_ms
    assert run.latency_ms - run.time_to_first_token_ms >= writing * 1000
    shown = run_representation(run)
    assert shown["time_to_first_token_ms"] == run.time_to_first_token_ms


def test_a_run_that_did_not_stream_has_no_time_to_first_token(execute, openai_server, integrate, enqueue):
    run = execute(enqueue(integrate(provider_document(openai_server.url)), stream=False))

    assert run.status == "succeeded"
    assert run.latency_ms > 0
    assert run.time_to_first_token_ms is None
    assert run_representation(run)["time_to_first_token_ms"] is None


def test_usage_reported_in_the_stream_is_recorded(execute, openai_server, integrate, enqueue):
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    openai_server.enqueue(
        EventStream([chunk("Hi"), chunk(" you", "stop"), {"id": "c1", "choices": [], "usage": usage}, "[DONE]"])
    )
    run = execute(enqueue(integrate(provider_document(openai_server.url)), stream=True))

    assert run.output == "Hi you"
    assert run.usage == usage


def test_partial_output_is_readable_while_the_run_streams(celery_worker, openai_server, integrate, enqueue):
    openai_server.stream_chunk_delay = 0.1
    words = "one two three four five six seven eight nine ten"
    run = enqueue(
        integrate(provider_document(openai_server.url)), stream=True, messages=[{"role": "user", "content": words}]
    )

    partials = set()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        current = Run.objects.get(pk=run.pk)
        if current.status in ("succeeded", "failed"):
            break
        text = run_live_output(current)
        if text:
            partials.add(text)
        time.sleep(0.03)
    run = wait_for_run(run.pk)

    assert run.output == f"echo: {words}"
    assert all(run.output.startswith(partial) for partial in partials)
    assert len([partial for partial in partials if partial != run.output]) >= 3
    assert run_live_output(run) == run.output
    assert cache.get(live_output_key(run.pk)) is None


def test_a_provider_answering_plain_json_to_a_stream_request_is_understood(execute, openai_server, integrate, enqueue):
    openai_server.enqueue(Echo(stream=False))
    run = execute(enqueue(integrate(provider_document(openai_server.url)), stream=True))

    assert run.status == "succeeded"
    assert run.output == "echo: Hello there"
    assert run.usage == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}


def test_an_error_event_before_any_chunk_is_retried(execute, openai_server, integrate, enqueue):
    openai_server.enqueue(EventStream([{"error": {"message": "Model overloaded", "code": 503}}]))
    run = execute(enqueue(integrate(provider_document(openai_server.url)), stream=True))

    assert run.status == "succeeded"
    assert [a["error_type"] for a in run.attempt_log] == ["provider_error", None]
    assert run.output == "echo: Hello there"


def test_an_error_event_after_chunks_fails_keeping_them_and_is_not_sent_again(
    execute, openai_server, integrate, enqueue
):
    openai_server.enqueue(EventStream([chunk("Hel"), {"error": {"message": "Model overloaded", "code": 503}}]))
    run = execute(enqueue(integrate(provider_document(openai_server.url)), stream=True))

    assert run.status == "failed"
    assert run.error_type == "provider_error"
    assert run.output == "Hel"
    assert len(openai_server.completion_requests) == 1
    assert run.error_message == (
        'The provider reported an error in the middle of the stream with HTTP 200 (error code "503"): "Model '
        'overloaded". The output received until then is kept; the request was not sent again.'
    )


def test_a_stream_of_garbage_is_reported(execute, openai_server, integrate, enqueue):
    openai_server.enqueue(EventStream(["this is not json"]))
    run = execute(enqueue(integrate(provider_document(openai_server.url)), stream=True))

    assert run.error_type == "invalid_response"
    assert run.error_message == "The provider's event stream contained data that is not JSON."


def test_chunks_that_are_not_completion_chunks_are_reported(execute, openai_server, integrate, enqueue):
    openai_server.enqueue(EventStream([{"choices": [{"index": 0, "delta": "text"}]}]))
    run = execute(enqueue(integrate(provider_document(openai_server.url)), stream=True))

    assert run.error_type == "malformed_completion"
    assert run.error_message.startswith("The provider's stream is not made of Chat Completion chunks (stream chunk ")
