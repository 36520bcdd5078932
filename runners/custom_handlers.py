"""Custom LLM handlers: litellm.CustomLLM subclasses loaded from GALILEO_CUSTOM_LLMS_DIRECTORY."""

import hashlib
import importlib.util
import inspect
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

from integrations.handler_files import HandlerConfigError, resolve_handler_path

_loaded: dict[tuple[str, int], ModuleType] = {}
_loaded_lock = threading.Lock()


def _load_module(path: Path) -> ModuleType:
    """The handler module, executed once per (path, modification time) so that an edited file is picked up."""
    key = (str(path), path.stat().st_mtime_ns)
    with _loaded_lock:
        module = _loaded.get(key)
        if module is not None:
            return module
        digest = hashlib.sha256(f"{key[0]}:{key[1]}".encode()).hexdigest()[:12]
        module_name = f"custom_llms.{path.stem.replace('.', '_').replace('-', '_')}_{digest}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise HandlerConfigError(f'"{path.name}" cannot be loaded as a Python module.')
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(module_name, None)
            line = f" (line {exc.lineno})" if isinstance(exc, SyntaxError) and exc.lineno else ""
            raise HandlerConfigError(
                f'"{path.name}" failed to load: {type(exc).__name__}{line}: {_short(str(exc))}'
            ) from None
        for stale in [k for k in _loaded if k[0] == key[0]]:
            sys.modules.pop(_loaded.pop(stale).__name__, None)
        _loaded[key] = module
        return module


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def handler_class(file_name: str, class_name: str) -> type:
    """The CustomLLM subclass named by a custom_llm_config, or HandlerConfigError saying what is wrong."""
    from litellm import CustomLLM

    module = _load_module(resolve_handler_path(file_name))
    cls = getattr(module, class_name, None)
    if cls is None:
        raise HandlerConfigError(f'"{file_name}" has no class named "{class_name}".')
    if not isinstance(cls, type) or not issubclass(cls, CustomLLM):
        raise HandlerConfigError(f'"{class_name}" in "{file_name}" is not a subclass of litellm.CustomLLM.')
    return cls


def handler_instance(config: dict[str, Any]):
    cls = handler_class(config["file_name"], config["class_name"])
    try:
        return cls(**(config.get("init_kwargs") or {}))
    except Exception as exc:
        raise HandlerConfigError(
            f'"{config["class_name"]}" could not be built with init_kwargs: {type(exc).__name__}: {_short(str(exc))}'
        ) from None


def acompletion_arguments(handler, arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments `handler.acompletion` accepts: all of them if it takes **kwargs, else the ones it names.

    Handlers written like the product page's example take (model, messages, api_base,
    custom_llm_provider, **kwargs) and read parameters from kwargs; handlers written
    against LiteLLM's full signature name optional_params, headers, timeout, ...
    """
    signature = inspect.signature(handler.acompletion)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
        return arguments
    return {name: value for name, value in arguments.items() if name in signature.parameters}


async def call_handler(
    handler,
    *,
    model: str,
    messages: list[dict[str, Any]],
    api_base: str,
    parameters: dict[str, Any],
    headers: dict[str, str],
    api_key: str | None,
    timeout: float,
    http_client=None,
):
    """Await the handler's acompletion with what LiteLLM would pass it, plus the parameters as keywords, plus
    `http_client`: an httpx.AsyncClient for the handler's own calls, configured as the runners' are (the address
    policy, the operator's proxy, the integration's `tls` trust and client certificate, no redirects followed).
    Handlers that take **kwargs or name `http_client` receive it."""
    from litellm.types.utils import ModelResponse

    arguments: dict[str, Any] = {
        **parameters,
        "model": model,
        "messages": messages,
        "api_base": api_base,
        "custom_llm_provider": "custom",
        "custom_prompt_dict": {},
        "model_response": ModelResponse(),
        "print_verbose": lambda *args, **kwargs: None,
        "encoding": None,
        "api_key": api_key,
        "logging_obj": None,
        "optional_params": dict(parameters),
        "acompletion": True,
        "litellm_params": {},
        "logger_fn": None,
        "headers": dict(headers),
        "timeout": timeout,
        "client": None,
        "http_client": http_client,
    }
    result = handler.acompletion(**acompletion_arguments(handler, arguments))
    return await result if inspect.isawaitable(result) else result
