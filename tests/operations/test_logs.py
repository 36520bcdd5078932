"""LOG_FORMAT=json: JSON lines, and every line a runner logs within a run carries its run, integration and
organisation ids, including lines logged on the worker's shared event loop (custom handlers run there)."""

import io
import json
import logging
import textwrap

import pytest

from core.log_context import JsonLinesFormatter, RunContextFilter, run_log_bind, run_log_context
from runners.event_loop import submit
from tests.fixtures.worker import wait_for_run

HANDLER = """
import logging

from litellm import CustomLLM
from litellm.types.utils import ModelResponse


class ChattyLLM(CustomLLM):
    async def acompletion(self, model, messages, api_base, **kwargs):
        logging.getLogger("acme.handler").warning("answering for %s", model)
        return ModelResponse(
            model=model,
            choices=[{"index": 0, "message": {"role": "assistant", "content": "fine"}, "finish_reason": "stop"}],
        )
"""


@pytest.fixture
def json_log():
    """Records of the `acme` logger formatted as the LOG_FORMAT=json handler formats them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLinesFormatter())
    handler.addFilter(RunContextFilter())
    logger = logging.getLogger("acme")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_lines_within_a_run_carry_its_ids_even_from_the_event_loop(json_log):
    logger = logging.getLogger("acme.test")

    async def on_the_loop():
        logger.info("from the loop")

    logger.info("before")
    with run_log_context(run_id="run-1"):
        logger.info("claimed")
        run_log_bind(integration_id=7, organization_id=3)
        logger.info("bound")
        submit(on_the_loop()).result(5)
    logger.info("after")

    lines = json_log()
    ids = {"run_id": "run-1", "integration_id": "7", "organization_id": "3"}
    assert [line["message"] for line in lines] == ["before", "claimed", "bound", "from the loop", "after"]
    assert [{key: line.get(key) for key in ids} for line in lines] == [
        dict.fromkeys(ids),
        {"run_id": "run-1", "integration_id": None, "organization_id": None},
        ids,
        ids,
        dict.fromkeys(ids),
    ]
    assert {"time", "level", "logger"} <= set(lines[0])
    assert (lines[0]["level"], lines[0]["logger"]) == ("INFO", "acme.test")


@pytest.mark.slow
def test_a_json_logging_worker_tags_a_runs_lines(celery_worker_process, integrate, enqueue, tmp_path, settings):
    directory = tmp_path / "handlers"
    directory.mkdir()
    (directory / "chatty.py").write_text(textwrap.dedent(HANDLER))
    settings.GALILEO_CUSTOM_LLMS_ENABLED = True
    settings.GALILEO_CUSTOM_LLMS_DIRECTORY = str(directory)
    worker = celery_worker_process(
        env={
            "LOG_FORMAT": "json",
            "GALILEO_CUSTOM_LLMS_ENABLED": "true",
            "GALILEO_CUSTOM_LLMS_DIRECTORY": str(directory),
        }
    )
    integration = integrate(
        {
            "authentication_type": "none",
            "model_properties": [{"name": "chatty-1"}],
            "endpoint": "http://127.0.0.1:9/v1",
            "custom_llm_config": {"file_name": "chatty.py", "class_name": "ChattyLLM"},
        }
    )
    run = wait_for_run(enqueue(integration).pk, timeout=30)
    assert run.status == "succeeded", run.error_message
    worker.stop()

    lines = [json.loads(line) for line in worker.log().splitlines() if line.startswith("{")]
    (handler_line,) = [line for line in lines if line["logger"] == "acme.handler"]
    assert handler_line["message"] == "answering for chatty-1"
    assert (handler_line["run_id"], handler_line["integration_id"], handler_line["organization_id"]) == (
        str(run.pk),
        str(integration.pk),
        str(run.organization_id),
    )
    assert any(line["logger"].startswith("celery") for line in lines)  # Celery's own lines are JSON too
