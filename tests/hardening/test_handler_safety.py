"""Custom handler safety beyond tests/runners/test_custom_handlers.py and the fault table: file names that leave the
directory or are not Python are refused when the document is saved, and a handler that blocks its thread instead of
awaiting is still bounded by the run's time limit (RUNNERS_MAX_RUN_SECONDS)."""

import time

import pytest

from core.problems import Invalid
from tests.factories import make_integration
from tests.runners.test_custom_handlers import handler_document, handlers_dir, write_handler  # noqa: F401

BLOCKS = """
    import time
    from litellm import CustomLLM


    class Blocks(CustomLLM):
        async def acompletion(self, *args, **kwargs):
            time.sleep(3)  # blocks the worker's event loop instead of awaiting
    """


@pytest.mark.parametrize(
    "file_name",
    ["../proprietary_handler.py", "..\\handler.py", "sub/handler.py", "/etc/passwd.py", "handler.txt", "handler",
     ".hidden.py", "handler.py/", "handler.pyc", "handler.py\x00.txt", "..py"],
)  # fmt: skip
def test_file_names_outside_the_directory_or_not_python_are_refused_at_save(org, openai_server, file_name):
    document = handler_document(openai_server, {"file_name": file_name, "class_name": "Handler"})
    with pytest.raises(Invalid) as caught:
        make_integration(organization=org, document=document)
    assert [error.loc for error in caught.value.errors] == [("custom_llm_config", "file_name")]


def test_a_handler_that_blocks_is_bounded_by_the_run_time_limit(
    execute,
    openai_server,
    handlers_dir,  # noqa: F811
    integrate,
    enqueue,
    settings,
):
    settings.RUNNERS_MAX_RUN_SECONDS = 1
    write_handler(handlers_dir, "blocks.py", BLOCKS)
    started = time.monotonic()
    run = execute(
        enqueue(integrate(handler_document(openai_server, {"file_name": "blocks.py", "class_name": "Blocks"})))
    )

    assert (run.status, run.error_type) == ("failed", "timeout")
    assert run.error_message == "The run reached its time limit of 1 s (RUNNERS_MAX_RUN_SECONDS)."
    assert time.monotonic() - started < 2.5
    time.sleep(2.5)  # let the blocked event loop recover before the next test
