"""Time limits that fit generation: RUNNERS_REQUEST_TIMEOUT bounds the wait for the first byte and each gap between
chunks (httpx's read timeout), RUNNERS_MAX_RUN_SECONDS the whole run; output received before a cut is kept, and a
request that has begun returning output is never sent again."""

import json

from tests.fixtures.servers import EventStream, Pause
from tests.runners.conftest import provider_document


def chunk(content=None, finish_reason=None) -> dict:
    delta = {"content": content} if content is not None else {}
    return {"id": "c1", "object": "chat.completion.chunk", "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}  # fmt: skip


def run_with(execute, openai_server, integrate, enqueue, answer, *, stream=True):
    openai_server.enqueue(answer)
    return execute(enqueue(integrate(provider_document(openai_server.url)), stream=stream))


def test_a_stream_longer_than_the_request_timeout_succeeds_while_chunks_keep_coming(
    execute, openai_server, integrate, enqueue, settings
):
    settings.RUNNERS_REQUEST_TIMEOUT = 1
    events = [chunk(f"w{i} ") for i in range(6)] + [chunk(None, "stop"), "[DONE]"]
    run = run_with(execute, openai_server, integrate, enqueue, EventStream(events, delay=0.4))

    assert run.status == "succeeded", run.error_message
    assert run.output == "w0 w1 w2 w3 w4 w5 "
    assert run.latency_ms > 2000


def test_a_plain_answer_written_slowly_succeeds_while_bytes_keep_coming(
    execute, openai_server, integrate, enqueue, settings
):
    settings.RUNNERS_REQUEST_TIMEOUT = 1
    choice = {"index": 0, "message": {"role": "assistant", "content": "slow"}, "finish_reason": "stop"}
    body = json.dumps({"id": "x", "object": "chat.completion", "choices": [choice]}).encode()
    pieces = [body[:10], Pause(0.6), body[10:20], Pause(0.6), body[20:]]
    answer = EventStream(raw=pieces, content_type="application/json")
    run = run_with(execute, openai_server, integrate, enqueue, answer, stream=False)

    assert run.status == "succeeded", run.error_message
    assert run.output == "slow"


def test_a_gap_between_chunks_longer_than_the_request_timeout_fails_keeping_the_output(
    execute, openai_server, integrate, enqueue, settings
):
    settings.RUNNERS_REQUEST_TIMEOUT = 0.5
    events = [chunk("Once upon"), chunk(" a time"), Pause(2), chunk(" never sent"), "[DONE]"]
    run = run_with(execute, openai_server, integrate, enqueue, EventStream(events))

    assert run.status == "failed"
    assert run.error_type == "timeout"
    assert run.output == "Once upon a time"
    assert run.error_message == (
        "The provider sent nothing for 0.5 s (RUNNERS_REQUEST_TIMEOUT, the longest wait for the first byte and "
        "between two chunks). The output received until then is kept; the request was not sent again."
    )
    assert len(openai_server.completion_requests) == 1
    assert run.attempts == 1


def test_a_plain_answer_that_stalls_after_it_began_is_not_sent_again(
    execute, openai_server, integrate, enqueue, settings
):
    settings.RUNNERS_REQUEST_TIMEOUT = 0.5
    answer = EventStream(raw=[b'{"id": "x", "choices": [', Pause(2), b"]}"], content_type="application/json")
    run = run_with(execute, openai_server, integrate, enqueue, answer, stream=False)

    assert (run.status, run.error_type) == ("failed", "timeout")
    assert run.error_message.endswith("The provider had begun answering, so the request was not sent again.")
    assert len(openai_server.completion_requests) == 1


def test_the_run_cap_cuts_a_long_stream_keeping_its_output_and_saying_why(
    execute, openai_server, integrate, enqueue, settings
):
    settings.RUNNERS_REQUEST_TIMEOUT = 5
    settings.RUNNERS_MAX_RUN_SECONDS = 1.5
    events = [chunk(f"{i} ") for i in range(40)] + [chunk(None, "stop"), "[DONE]"]
    run = run_with(execute, openai_server, integrate, enqueue, EventStream(events, delay=0.1))

    assert run.status == "failed"
    assert run.error_type == "timeout"
    assert run.error_message == (
        "The run reached its time limit of 1.5 s (RUNNERS_MAX_RUN_SECONDS). The output received until then is kept; "
        "the request was not sent again."
    )
    words = run.output.split()
    assert 5 <= len(words) < 40
    assert words == [str(i) for i in range(len(words))]
    assert len(openai_server.completion_requests) == 1


def test_silence_before_the_first_byte_is_still_retried(execute, openai_server, integrate, enqueue, settings):
    settings.RUNNERS_REQUEST_TIMEOUT = 0.5
    settings.RUNNERS_MAX_RETRIES = 1
    run = run_with(execute, openai_server, integrate, enqueue, EventStream([Pause(1.5), chunk("late", "stop")]))

    assert run.status == "succeeded", run.error_message
    assert [attempt["error_type"] for attempt in run.attempt_log] == ["timeout", None]
    assert len(openai_server.completion_requests) == 2
