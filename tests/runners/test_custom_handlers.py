"""Custom LLM handlers (DESIGN.md §4): loaded from GALILEO_CUSTOM_LLMS_DIRECTORY, called with api_base=endpoint."""

import os
import shutil
import textwrap
from pathlib import Path

import pytest
import trustme

from runners.custom_handlers import HandlerConfigError, resolve_handler_path
from tests.fixtures.certificates import client_leaf, tls_key
from tests.fixtures.servers import Reply, server_tls

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "custom_llms" / "proprietary_handler.py"
CONFIG = {"file_name": "proprietary_handler.py", "class_name": "ProprietaryLLMHandler", "init_kwargs": {"timeout": 5}}


@pytest.fixture
def handlers_dir(tmp_path, settings):
    directory = tmp_path / "custom_llms"
    directory.mkdir()
    shutil.copy(EXAMPLE, directory / "proprietary_handler.py")
    settings.GALILEO_CUSTOM_LLMS_ENABLED = True
    settings.GALILEO_CUSTOM_LLMS_DIRECTORY = str(directory)
    import litellm  # noqa: F401 (a worker preloads it when handlers are enabled; this one started without)

    return directory


def handler_document(openai_server, config=None, **overrides) -> dict:
    document = {
        "authentication_type": "none",
        "model_properties": [
            {
                "name": "proprietary-model",
                "alias": "Proprietary Model",
                "supported_parameters": ["temperature", "max_tokens", "stop_sequences"],
            }
        ],
        "endpoint": f"{openai_server.base_url}/inference",
        "custom_llm_config": config or CONFIG,
    }
    document.update(overrides)
    return document


def write_handler(directory: Path, name: str, source: str) -> None:
    path = directory / name
    path.write_text(textwrap.dedent(source))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a new mtime even within one tick


def test_the_example_handler_calls_the_proprietary_api(execute, openai_server, handlers_dir, integrate, enqueue):
    messages = [{"role": "user", "content": "Hello proprietary world"}]
    run = enqueue(
        integrate(handler_document(openai_server)),
        messages=messages,
        parameters={"temperature": 0.3, "max_tokens": 50, "top_k": 3},
    )
    run = execute(run)

    assert run.status == "succeeded", run.error_message
    (received,) = openai_server.generate_requests
    assert received.path == "/inference/generate"
    assert received.json == {"prompt": messages, "temperature": 0.3, "max_tokens": 50}
    assert run.output == "generated: Hello proprietary world"
    assert run.usage == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    assert run.dropped_parameters == ["top_k"]
    assert run.request["handler"] == "proprietary_handler.py:ProprietaryLLMHandler"
    assert run.request["url"] == f"{openai_server.base_url}/inference"
    assert run.request["body"] == {
        "model": "proprietary-model",
        "messages": messages,
        "temperature": 0.3,
        "max_tokens": 50,
    }
    assert openai_server.completion_requests == []


def test_a_handler_receives_the_integrations_headers(execute, openai_server, handlers_dir, integrate, enqueue):
    document = handler_document(
        openai_server,
        authentication_type="api_key",
        api_key_header="X-Api-Key",
        api_key_value="handler-secret-key-1",
        custom_header_mapping={"run_id": "X-Run-Id"},
    )
    run = execute(enqueue(integrate(document)))

    (received,) = openai_server.generate_requests
    assert received.headers["x-api-key"] == "handler-secret-key-1"
    assert received.headers["x-run-id"] == str(run.pk)
    assert run.request["headers"] == {"X-Api-Key": "********", "X-Run-Id": str(run.pk)}


def test_a_handler_written_against_litellms_signature_gets_optional_params(
    execute, openai_server, handlers_dir, integrate, enqueue
):
    write_handler(
        handlers_dir,
        "strict_handler.py",
        """
        import json

        from litellm import CustomLLM
        from litellm.types.utils import ModelResponse


        class StrictHandler(CustomLLM):
            def __init__(self, prefix):
                super().__init__()
                self.prefix = prefix

            async def acompletion(self, model, messages, api_base, custom_prompt_dict, model_response, print_verbose,
                                  encoding, api_key, logging_obj, optional_params, acompletion=None,
                                  litellm_params=None, logger_fn=None, headers={}, timeout=None, client=None):
                content = json.dumps([self.prefix, model, api_base, optional_params])
                return ModelResponse(choices=[{"message": {"role": "assistant", "content": content}}], model=model)
        """,
    )
    config = {"file_name": "strict_handler.py", "class_name": "StrictHandler", "init_kwargs": {"prefix": "p"}}
    run = enqueue(integrate(handler_document(openai_server, config)), parameters={"stop_sequences": ["END"]})
    run = execute(run)

    assert run.status == "succeeded", run.error_message
    assert run.output == f'["p", "proprietary-model", "{openai_server.base_url}/inference", {{"stop": ["END"]}}]'


def test_handlers_are_refused_when_disabled(execute, openai_server, handlers_dir, integrate, enqueue, settings):
    integration = integrate(handler_document(openai_server))
    settings.GALILEO_CUSTOM_LLMS_ENABLED = False
    run = execute(enqueue(integration))

    assert run.status == "failed"
    assert run.error_type == "handler_config"
    assert run.error_message == (
        "Custom handlers are disabled on this deployment (set GALILEO_CUSTOM_LLMS_ENABLED=true)."
    )


def test_a_handler_file_removed_after_saving_is_reported(execute, openai_server, handlers_dir, integrate, enqueue):
    integration = integrate(handler_document(openai_server))
    (handlers_dir / "proprietary_handler.py").unlink()
    run = execute(enqueue(integration))

    assert run.error_type == "handler_config"
    assert run.error_message == '"proprietary_handler.py" was not found in the custom handlers directory.'


def test_a_handler_file_linking_out_of_the_directory_is_refused(
    execute, openai_server, handlers_dir, integrate, enqueue, tmp_path
):
    integration = integrate(handler_document(openai_server))
    outside = tmp_path / "outside.py"
    shutil.copy(EXAMPLE, outside)
    (handlers_dir / "proprietary_handler.py").unlink()
    (handlers_dir / "proprietary_handler.py").symlink_to(outside)
    run = execute(enqueue(integration))

    assert run.error_type == "handler_config"
    assert run.error_message == '"proprietary_handler.py" links outside the custom handlers directory.'
    assert openai_server.generate_requests == []


@pytest.mark.parametrize("file_name", ["../proprietary_handler.py", "sub/handler.py", "/etc/passwd.py", "handler.txt"])
def test_only_bare_python_file_names_resolve(handlers_dir, file_name):
    with pytest.raises(HandlerConfigError, match=r"must be a bare file name ending in \.py"):
        resolve_handler_path(file_name)


def test_a_missing_class_is_reported(execute, openai_server, handlers_dir, integrate, enqueue):
    config = {**CONFIG, "class_name": "NoSuchHandler"}
    run = execute(enqueue(integrate(handler_document(openai_server, config))))

    assert run.error_type == "handler_config"
    assert run.error_message == '"proprietary_handler.py" has no class named "NoSuchHandler".'


def test_a_class_that_is_not_a_custom_llm_is_refused(execute, openai_server, handlers_dir, integrate, enqueue):
    config = {**CONFIG, "class_name": "ProprietaryAPIError"}
    run = execute(enqueue(integrate(handler_document(openai_server, config))))

    assert run.error_type == "handler_config"
    assert (
        run.error_message == '"ProprietaryAPIError" in "proprietary_handler.py" is not a subclass of litellm.CustomLLM.'
    )


def test_a_handler_file_that_does_not_load_is_reported(execute, openai_server, handlers_dir, integrate, enqueue):
    write_handler(handlers_dir, "broken.py", "class Broken(:\n    pass\n")
    config = {"file_name": "broken.py", "class_name": "Broken"}
    run = execute(enqueue(integrate(handler_document(openai_server, config))))

    assert run.error_type == "handler_config"
    assert run.error_message.startswith('"broken.py" failed to load: SyntaxError (line 1): ')


def test_bad_init_kwargs_are_reported(execute, openai_server, handlers_dir, integrate, enqueue):
    config = {**CONFIG, "init_kwargs": {"colour": "blue"}}
    run = execute(enqueue(integrate(handler_document(openai_server, config))))

    assert run.error_type == "handler_config"
    assert run.error_message.startswith('"ProprietaryLLMHandler" could not be built with init_kwargs: TypeError: ')


def test_an_exception_in_the_handler_fails_the_run(execute, openai_server, handlers_dir, integrate, enqueue):
    openai_server.enqueue_generate(Reply(status=500, body="internal"))
    config = {**CONFIG, "init_kwargs": {"retry_count": 0}}
    run = execute(enqueue(integrate(handler_document(openai_server, config))))

    assert run.status == "failed"
    assert run.error_type == "handler_error"
    assert run.error_message == (
        "The custom handler ProprietaryLLMHandler raised ProprietaryAPIError: the API answered HTTP 500"
    )


def test_a_handler_slower_than_the_timeout_fails(execute, openai_server, handlers_dir, integrate, enqueue, settings):
    settings.RUNNERS_REQUEST_TIMEOUT = 1
    openai_server.enqueue_generate(Reply(json={"output": "late"}, delay=3))
    run = execute(enqueue(integrate(handler_document(openai_server))))

    assert run.error_type == "timeout"
    assert run.error_message == (
        "The custom handler ProprietaryLLMHandler did not answer within 1 s (RUNNERS_REQUEST_TIMEOUT)."
    )


def test_the_example_handler_retries_as_configured(execute, openai_server, handlers_dir, integrate, enqueue):
    openai_server.enqueue_generate(Reply(status=503, body="busy"))
    run = execute(enqueue(integrate(handler_document(openai_server))))

    assert run.status == "succeeded"
    assert len(openai_server.generate_requests) == 2


def test_an_edited_handler_file_is_reloaded(execute, openai_server, handlers_dir, integrate, enqueue):
    source = """
        from litellm import CustomLLM
        from litellm.types.utils import ModelResponse


        class Versioned(CustomLLM):
            async def acompletion(self, model, messages, api_base, custom_llm_provider, **kwargs):
                return ModelResponse(choices=[{"message": {"role": "assistant", "content": "VERSION"}}])
        """
    write_handler(handlers_dir, "versioned.py", source.replace("VERSION", "v1"))
    integration = integrate(handler_document(openai_server, {"file_name": "versioned.py", "class_name": "Versioned"}))
    assert execute(enqueue(integration)).output == "v1"

    write_handler(handlers_dir, "versioned.py", source.replace("VERSION", "v2"))
    assert execute(enqueue(integration)).output == "v2"


def test_the_example_handler_reaches_a_mutual_tls_api_through_the_http_client_it_is_given(
    execute, https_servers, handlers_dir, integrate, enqueue
):
    server_ca, client_ca = trustme.CA(), trustme.CA()
    server = https_servers.openai(server_tls(server_ca, client_ca=client_ca))
    server.enqueue_generate(Reply(json={"id": "g-1", "output": "over mTLS", "input_tokens": 1, "output_tokens": 2}))
    document = handler_document(server, tls=tls_key(ca=server_ca, client=client_leaf(client_ca)))

    run = execute(enqueue(integrate(document)))

    assert run.status == "succeeded", run.error
    assert run.output == "over mTLS"
    (arrived,) = server.generate_requests
    assert arrived.client_certificate == "runner@example.test"


def test_a_handler_that_closes_its_http_client_leaves_the_workers_client_open(
    execute, openai_server, handlers_dir, integrate, enqueue
):
    write_handler(
        handlers_dir,
        "closing.py",
        """
        from litellm import CustomLLM
        from litellm.types.utils import ModelResponse


        class Closing(CustomLLM):
            async def acompletion(self, model, messages, api_base, custom_llm_provider, **kwargs):
                async with kwargs["http_client"] as client:
                    answer = await client.post(f"{api_base}/generate", json={"prompt": messages})
                return ModelResponse(choices=[{"message": {"role": "assistant", "content": answer.json()["output"]}}])
        """,
    )
    for _ in range(2):
        openai_server.enqueue_generate(Reply(json={"id": "g", "output": "fine"}))
    integration = integrate(handler_document(openai_server, {"file_name": "closing.py", "class_name": "Closing"}))

    assert [execute(enqueue(integration)).output for _ in range(2)] == ["fine", "fine"]
    assert len(openai_server.generate_requests) == 2
