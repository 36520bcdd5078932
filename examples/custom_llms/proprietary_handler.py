"""A custom LLM handler for a proprietary, non-OpenAI JSON API (the product page's example, made robust).

The provider's API:  POST {api_base}/generate  {"prompt": [messages], "temperature": t, "max_tokens": n}
                     ->  {"id": "...", "output": "text", "input_tokens": i, "output_tokens": o, "total_tokens": t}

Deploy: copy this file into GALILEO_CUSTOM_LLMS_DIRECTORY, set GALILEO_CUSTOM_LLMS_ENABLED=true, and use
    "custom_llm_config": {"file_name": "proprietary_handler.py", "class_name": "ProprietaryLLMHandler",
                          "init_kwargs": {"timeout": 60, "retry_count": 3}}
The runner calls `acompletion` with the integration's endpoint as `api_base`, the run parameters the
model supports as keyword arguments (and in `optional_params`), and the request headers of the
integration (its credential, custom_header_mapping and static headers) as `headers`, and `http_client`: an
httpx.AsyncClient set up as the runners' own (the integration's "tls" CA and client certificate, the address
policy, the operator's proxy). This handler uses it, so mutual TLS needs nothing here.
"""

import asyncio
from urllib.parse import urlsplit, urlunsplit

import httpx
from litellm import CustomLLM
from litellm.types.utils import ModelResponse


class ProprietaryAPIError(Exception):
    """The proprietary API failed; the message says how, without echoing credentials."""


class ProprietaryLLMHandler(CustomLLM):
    """Custom handler for a proprietary LLM API."""

    def __init__(self, timeout: float = 30, retry_count: int = 1):
        super().__init__()
        self.timeout = timeout
        self.retry_count = max(0, int(retry_count))

    async def acompletion(self, model: str, messages: list, api_base: str, custom_llm_provider: str, **kwargs):
        payload = self._transform_request(messages, **kwargs)
        headers = {"Content-Type": "application/json", **(kwargs.get("headers") or {})}
        # The endpoint may carry a query string (?api-version=...): the path goes onto its path, the query stays.
        parts = urlsplit(api_base)
        url = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/generate"))
        client = kwargs.get("http_client")
        if client is None:  # called outside the runners (a test, a script)
            async with httpx.AsyncClient(timeout=self.timeout) as own_client:
                response = await self._post(own_client, url, payload, headers)
        else:
            response = await self._post(client, url, payload, headers)
        try:
            data = response.json()
        except ValueError:
            raise ProprietaryAPIError("the API answered with a body that is not JSON") from None
        return self._transform_response(data, model)

    async def _post(self, client: httpx.AsyncClient, url: str, payload: dict, headers: dict) -> httpx.Response:
        """POST with `retry_count` retries on connection failures and 5xx answers."""
        for attempt in range(self.retry_count + 1):
            try:
                response = await client.post(url, json=payload, headers=headers, timeout=self.timeout)
            except httpx.TransportError as exc:
                if attempt == self.retry_count:
                    raise ProprietaryAPIError(f"cannot reach the API ({type(exc).__name__})") from None
                await asyncio.sleep(0.2 * 2**attempt)
                continue
            if response.status_code >= 500 and attempt < self.retry_count:
                await asyncio.sleep(0.2 * 2**attempt)
                continue
            if response.status_code != 200:
                raise ProprietaryAPIError(f"the API answered HTTP {response.status_code}")
            return response
        raise AssertionError("unreachable")

    def _transform_request(self, messages: list, **kwargs) -> dict:
        """LiteLLM messages and parameters to the provider's format."""
        payload = {
            "prompt": messages,
            "temperature": kwargs.get("temperature", 0.7),
            "max_tokens": kwargs.get("max_tokens", 1024),
        }
        if kwargs.get("stop"):
            payload["stop"] = kwargs["stop"]
        return payload

    def _transform_response(self, data: dict, model: str) -> ModelResponse:
        """The provider's response to a LiteLLM ModelResponse."""
        if not isinstance(data, dict) or not isinstance(data.get("output"), str):
            raise ProprietaryAPIError('the API answered without an "output" text')
        return ModelResponse(
            id=data.get("id", "response-id"),
            choices=[{"message": {"role": "assistant", "content": data["output"]}, "finish_reason": "stop"}],
            model=model,
            usage={
                "prompt_tokens": data.get("input_tokens", 0),
                "completion_tokens": data.get("output_tokens", 0),
                "total_tokens": data.get("total_tokens", 0),
            },
        )
