"""Profiles of real Chat Completions servers for the conformance suite: each answers as that server documents.

A profile plugs into the fake provider (`openai_server.profile = PROFILE`, tests/fixtures/servers.py) and answers
every chat completions request the way the real server does on the wire: its JSON shapes, its event stream framing,
its error bodies and the parameters it refuses. Each profile also says what the runner must send it
(`expected_request`) and what a run must store (`expected_run`), for the three conversations of the suite:

    "plain"     one user message, a plain JSON answer
    "streamed"  the same with `stream: true`, answered as an event stream
    "tool_call" the same, plain, with one function tool; the server answers with a call of it (content null)

Sources (read when each profile was written; the shapes below are theirs):
    OpenAI          platform.openai.com API reference (chat, streaming `stream_options.include_usage`, errors with
                    `code` unsupported_parameter / unsupported_value and `param`); reasoning models refuse
                    `max_tokens` ("Use 'max_completion_tokens' instead") and a `temperature` other than 1.
    Azure OpenAI    learn.microsoft.com Azure OpenAI REST reference: `/openai/deployments/{deployment}/chat/completions
                    ?api-version=`, the `api-key` header, `prompt_filter_results` / `content_filter_results`, a first
                    stream chunk with empty `choices`, error bodies with string `code`s and `innererror`.
    vLLM            vllm/entrypoints/openai (ErrorInfo: integer `code`, `type` "BadRequestError"), reasoning
                    outputs docs (`reasoning_content` in message and delta), tool calls streamed in fragments
                    ("chatcmpl-tool-" ids), usage in a last chunk with empty `choices` when include_usage.
    Ollama          ollama/openai/openai.go and middleware/openai.go: `system_fingerprint` "fp_ollama", whole tool
                    calls in one delta (with `index`), finish_reason "tool_calls" in its own chunk, usage chunk only
                    with include_usage, errors `{"error": {"message", "type", "param": null, "code": null}}`.
    OpenRouter      openrouter.ai/docs streaming and errors: ": OPENROUTER PROCESSING" comment lines, `reasoning`
                    in message and delta, usage in the final chunk, errors mid-stream as a chunk with an `error`
                    object and finish_reason "error", error `code` as a number.
    Groq            console.groq.com docs: `x_groq` on chunks, its `usage` in the last one, `usage` on the
                    chunk with the finish_reason when include_usage, whole tool calls in one delta.
    TGI             huggingface/text-generation-inference router/src (lib.rs, chat.rs): empty `id`, the model named
                    by the server (the request's "tgi" or name ignored), every delta with role, `usage: null` on each
                    chunk and a usage chunk with empty choices only when include_usage, tool call id "0" with
                    `description: null`, no `content` key beside tool_calls, errors `{"error": str, "error_type"}`.
"""

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from starlette.responses import JSONResponse, Response, StreamingResponse

QUESTION = "What is the capital of France?"
MESSAGES = [{"role": "user", "content": QUESTION}]
ANSWER_PIECES = ["The", " capital", " of", " France", " is", " Paris."]
ANSWER = "".join(ANSWER_PIECES)
REASONING_PIECES = ["The user asks", " for a capital;", " France's is Paris."]
REASONING = "".join(REASONING_PIECES)
USAGE = {"prompt_tokens": 14, "completion_tokens": 6, "total_tokens": 20}
TOOL_ARGUMENTS = '{"city": "Paris"}'
TOOL_ARGUMENT_PIECES = ['{"ci', 'ty": ', '"Par', 'is"}']
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
CREATED = 1764460800
KINDS = ("plain", "streamed", "tool_call")


def sse(frames: list[Any], *, line_end: str = "\n", done: bool = True) -> list[str]:
    """Event stream text: dicts become `data: <json>` events, strings starting with ":" are comment lines."""
    out = []
    for frame in frames:
        if isinstance(frame, str) and frame.startswith(":"):
            out.append(frame + line_end + line_end)
        else:
            data = frame if isinstance(frame, str) else json.dumps(frame)
            out.append(f"data: {data}{line_end}{line_end}")
    if done:
        out.append(f"data: [DONE]{line_end}{line_end}")
    return out


def event_stream(texts: list[str], *, headers: dict[str, str] | None = None, delay: float = 0.0) -> Response:
    async def generate():
        for text in texts:
            yield text.encode()
            if delay:
                await asyncio.sleep(delay)

    return StreamingResponse(generate(), media_type="text/event-stream", headers=headers)


def include_usage(body: dict) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


@dataclass
class Profile:
    """A real server's wire behaviour, and what the runner must send it and store from it."""

    name: ClassVar[str]
    model: ClassVar[str]
    tool_call_id: ClassVar[str] = "call_conformance_1"
    reasoning: ClassVar[str | None] = None
    # What a run of the suite asks for, and how it must go out on the wire.
    run_parameters: ClassVar[dict[str, Any]] = {"max_tokens": 64, "temperature": 0.2}
    wire_parameters: ClassVar[dict[str, Any]] = {"max_tokens": 64, "temperature": 0.2}
    supported_parameters: ClassVar[list[str]] = ["max_tokens", "temperature", "tools", "tool_choice"]
    api_key: ClassVar[str] = "sk-conformance-0123456789"
    received: list[dict] = field(default_factory=list)

    # -- what the integration looks like ----------------------------------------------------------------
    def endpoint(self, base_url: str) -> str:
        return f"{base_url}/v1"

    def document(self, base_url: str) -> dict:
        return {
            "authentication_type": "api_key",
            "api_key_header": "Authorization",
            "api_key_value": f"Bearer {self.api_key}",
            "endpoint": self.endpoint(base_url),
            "model_properties": [{"name": self.model, "supported_parameters": list(self.supported_parameters)}],
        }

    # -- what the runner must send ------------------------------------------------------------------------
    path: ClassVar[str] = "/v1/chat/completions"
    query: ClassVar[str] = ""

    def credential_headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.api_key}"}

    def run_kwargs(self, kind: str) -> dict:
        parameters = dict(self.run_parameters)
        if kind == "tool_call":
            parameters.update(tools=[WEATHER_TOOL], tool_choice="auto")
        return {"messages": MESSAGES, "parameters": parameters, "stream": kind == "streamed"}

    def expected_body(self, kind: str) -> dict:
        body = {"model": self.model, "messages": MESSAGES, **self.wire_parameters}
        if kind == "tool_call":
            body.update(tools=[WEATHER_TOOL], tool_choice="auto")
        if kind == "streamed":
            body.update(stream=True, stream_options={"include_usage": True})
        return body

    # -- what the run must store --------------------------------------------------------------------------
    def expected_tool_calls(self) -> list[dict]:
        return [
            {
                "id": self.tool_call_id,
                "type": "function",
                "function": {"name": "get_weather", "arguments": TOOL_ARGUMENTS},
            }
        ]

    def expected_run(self, kind: str) -> dict:
        if kind == "tool_call":
            return {
                "status": "succeeded",
                "output": "",
                "finish_reason": "tool_calls",
                "usage": USAGE,
                "tool_calls": self.expected_tool_calls(),
                "reasoning": None,
                "error_type": None,
            }
        return {
            "status": "succeeded",
            "output": ANSWER,
            "finish_reason": "stop",
            "usage": USAGE,
            "tool_calls": None,
            "reasoning": self.reasoning,
            "error_type": None,
        }

    # -- how the server answers ---------------------------------------------------------------------------
    async def respond(self, recorded, body: dict) -> Response:
        self.received.append(body)
        refusal = self.refusal(recorded, body)
        if refusal is not None:
            return refusal
        tool = bool(body.get("tools"))
        if body.get("stream"):
            return event_stream(self.stream(body, tool=tool))
        return JSONResponse(self.completion(body, tool=tool))

    def refusal(self, recorded, body: dict) -> Response | None:
        """An error answer for a request this server refuses, or None."""
        return None

    def completion(self, body: dict, *, tool: bool) -> dict:
        raise NotImplementedError

    def stream(self, body: dict, *, tool: bool) -> list[str]:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------------------------
class OpenAIReasoning(Profile):
    """OpenAI, a gpt-5 family reasoning model: `max_tokens` refused, `max_completion_tokens` taken, `temperature`
    other than 1 refused; usage in a last chunk (choices []) only when include_usage; tool calls streamed in
    fragments; every chunk has `usage: null` when usage was asked for and an `obfuscation` padding field."""

    name = "openai"
    model = "gpt-5.2"
    tool_call_id = "call_Qx7cW2YHnJb3kV9sT1aZ0mLp"
    run_parameters = {"reasoning_effort": "low"}
    wire_parameters = {"reasoning_effort": "low"}
    supported_parameters = ["max_tokens", "temperature", "reasoning_effort", "tools", "tool_choice"]
    USAGE_DETAILS: ClassVar[dict] = {
        **USAGE,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }

    @staticmethod
    def error(message: str, param: str, code: str) -> JSONResponse:
        return JSONResponse(
            {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}},
            status_code=400,
        )

    def refusal(self, recorded, body):
        if "max_tokens" in body:
            return self.error(
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead.",
                "max_tokens",
                "unsupported_parameter",
            )
        if "temperature" in body and body["temperature"] != 1:
            return self.error(
                f"Unsupported value: 'temperature' does not support {body['temperature']} with this model. "
                "Only the default (1) value is supported.",
                "temperature",
                "unsupported_value",
            )
        return None

    def base(self) -> dict:
        return {"id": "chatcmpl-CQ5conformance", "created": CREATED, "model": "gpt-5.2-2025-12-11"}

    def completion(self, body, *, tool):
        message: dict[str, Any] = {"role": "assistant", "content": ANSWER, "refusal": None, "annotations": []}
        finish = "stop"
        if tool:
            message["content"] = None
            message["tool_calls"] = self.expected_tool_calls()
            finish = "tool_calls"
        return {
            **self.base(),
            "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": self.USAGE_DETAILS,
            "service_tier": "default",
            "system_fingerprint": None,
        }

    def stream(self, body, *, tool):
        usage_wanted = include_usage(body)

        def chunk(delta: dict, finish=None) -> dict:
            event = {
                **self.base(),
                "object": "chat.completion.chunk",
                "service_tier": "default",
                "system_fingerprint": None,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                "obfuscation": "x1Yz",
            }
            if usage_wanted:
                event["usage"] = None
            return event

        frames = [chunk({"role": "assistant", "content": "" if not tool else None, "refusal": None})]
        if tool:
            frames.append(
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": self.tool_call_id,
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": ""},
                            }
                        ]
                    }
                )
            )
            for piece in TOOL_ARGUMENT_PIECES:
                frames.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
            frames.append(chunk({}, "tool_calls"))
        else:
            frames += [chunk({"content": piece}) for piece in ANSWER_PIECES]
            frames.append(chunk({}, "stop"))
        if usage_wanted:
            frames.append(
                {
                    **self.base(),
                    "object": "chat.completion.chunk",
                    "service_tier": "default",
                    "system_fingerprint": None,
                    "choices": [],
                    "usage": self.USAGE_DETAILS,
                    "obfuscation": "Qw",
                }
            )
        return sse(frames)


# ---------------------------------------------------------------------------------------------------------------
FILTER_SAFE = {
    "hate": {"filtered": False, "severity": "safe"},
    "self_harm": {"filtered": False, "severity": "safe"},
    "sexual": {"filtered": False, "severity": "safe"},
    "violence": {"filtered": False, "severity": "safe"},
}


class AzureOpenAI(Profile):
    """Azure OpenAI: the deployment in the path, `api-version` in the query, the key in `api-key`; content filter
    results on prompt and choices; a first stream chunk with empty choices and empty id/model."""

    name = "azure"
    model = "gpt-4o-prod"  # the deployment name
    tool_call_id = "call_azure_8mWq2"
    api_key = "0123456789abcdef0123456789abcdef"
    API_VERSION: ClassVar[str] = "2024-10-21"
    path = "/openai/deployments/gpt-4o-prod/chat/completions"
    query = "api-version=2024-10-21"

    def endpoint(self, base_url: str) -> str:
        return f"{base_url}/openai/deployments/{self.model}?api-version={self.API_VERSION}"

    def document(self, base_url: str) -> dict:
        document = super().document(base_url)
        document.update(api_key_header="api-key", api_key_value=self.api_key)
        return document

    def credential_headers(self):
        return {"api-key": self.api_key}

    def refusal(self, recorded, body):
        if recorded.headers.get("api-key") != self.api_key:
            return JSONResponse(
                {
                    "error": {
                        "code": "401",
                        "message": "Access denied due to invalid subscription key or wrong API endpoint. Make sure "
                        "to provide a valid key for an active subscription and use a correct regional API "
                        "endpoint for your resource.",
                    }
                },
                status_code=401,
            )
        if "api-version=" not in recorded.query:
            return JSONResponse(
                {"error": {"code": "404", "message": "Resource not found"}},
                status_code=404,
            )
        return None

    def prompt_filter(self) -> list[dict]:
        return [{"prompt_index": 0, "content_filter_results": FILTER_SAFE}]

    def completion(self, body, *, tool):
        message: dict[str, Any] = {"role": "assistant", "content": ANSWER, "refusal": None}
        finish = "stop"
        if tool:
            message["content"] = None
            message["tool_calls"] = self.expected_tool_calls()
            finish = "tool_calls"
        return {
            "id": "chatcmpl-AzConformance",
            "object": "chat.completion",
            "created": CREATED,
            "model": "gpt-4o-2024-11-20",
            "system_fingerprint": "fp_ee1d74bde0",
            "prompt_filter_results": self.prompt_filter(),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": finish,
                    "content_filter_results": {} if tool else FILTER_SAFE,
                }
            ],
            "usage": USAGE,
        }

    def stream(self, body, *, tool):
        base = {"id": "chatcmpl-AzConformance", "object": "chat.completion.chunk", "created": CREATED}
        base |= {"model": "gpt-4o-2024-11-20", "system_fingerprint": "fp_ee1d74bde0"}
        frames: list[Any] = [
            {
                "choices": [],
                "created": 0,
                "id": "",
                "model": "",
                "object": "",
                "prompt_filter_results": self.prompt_filter(),
            }
        ]
        frames.append(
            {
                **base,
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": ""},
                        "finish_reason": None,
                        "content_filter_results": {},
                    }
                ],
            }
        )
        for piece in ANSWER_PIECES:
            frames.append(
                {
                    **base,
                    "choices": [
                        {
                            "index": 0,
                            "delta": {"content": piece},
                            "finish_reason": None,
                            "content_filter_results": FILTER_SAFE,
                        }
                    ],
                }
            )
        frames.append(
            {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "content_filter_results": {}}]}
        )
        if include_usage(body):
            frames.append({**base, "choices": [], "usage": USAGE})
        return sse(frames)


# ---------------------------------------------------------------------------------------------------------------
class VLLM(Profile):
    """vLLM's OpenAI-compatible server with a reasoning parser (deepseek_r1) and a tool parser."""

    name = "vllm"
    model = "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"
    tool_call_id = "chatcmpl-tool-5f0b3c1e9a2d4c7b"
    reasoning = REASONING
    MAX_MODEL_LEN: ClassVar[int] = 4096

    def refusal(self, recorded, body):
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, int) and max_tokens > self.MAX_MODEL_LEN:
            return JSONResponse(
                {
                    "error": {
                        "message": f"This model's maximum context length is {self.MAX_MODEL_LEN} tokens. However, "
                        f"you requested {max_tokens + 14} tokens ({max_tokens} in the messages, 14 in the "
                        "completion). Please reduce the length of the messages or completion.",
                        "type": "BadRequestError",
                        "param": None,
                        "code": 400,
                    }
                },
                status_code=400,
            )
        return None

    def completion(self, body, *, tool):
        message: dict[str, Any] = {
            "role": "assistant",
            "reasoning_content": REASONING,
            "content": ANSWER,
            "tool_calls": [],
        }
        finish = "stop"
        if tool:
            message.update(content=None, reasoning_content=None, tool_calls=self.expected_tool_calls())
            finish = "tool_calls"
        return {
            "id": "chatcmpl-8d9e5b0c2f6a4e1b",
            "object": "chat.completion",
            "created": CREATED,
            "model": self.model,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish, "stop_reason": None}
            ],
            "usage": {**USAGE, "prompt_tokens_details": None},
            "prompt_logprobs": None,
        }

    def stream(self, body, *, tool):
        base = {"id": "chatcmpl-8d9e5b0c2f6a4e1b", "object": "chat.completion.chunk", "created": CREATED}
        base["model"] = self.model

        def chunk(delta, finish=None, **extra):
            return {
                **base,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish, **extra}],
            }

        frames = [chunk({"role": "assistant", "content": ""})]
        if tool:
            # The tool parser sends the id, type and name first, then the arguments in pieces.
            first = {"id": self.tool_call_id, "type": "function", "index": 0, "function": {"name": "get_weather"}}
            frames.append(chunk({"tool_calls": [first]}))
            frames += [
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
                for piece in TOOL_ARGUMENT_PIECES
            ]
            frames.append(chunk({"content": ""}, "tool_calls", stop_reason=None))
        else:
            frames += [chunk({"reasoning_content": piece}) for piece in REASONING_PIECES]
            frames += [chunk({"content": piece}) for piece in ANSWER_PIECES]
            frames.append(chunk({"content": ""}, "stop", stop_reason=None))
        if include_usage(body):
            frames.append({**base, "choices": [], "usage": USAGE})
        return sse(frames)


# ---------------------------------------------------------------------------------------------------------------
class Ollama(Profile):
    """Ollama's OpenAI compatibility API (/v1): no authentication, `fp_ollama`, whole tool calls."""

    name = "ollama"
    model = "llama3.1:8b"
    tool_call_id = "call_k2x9q4lm"
    run_parameters = {"max_tokens": 64, "temperature": 0.2}

    def document(self, base_url):
        return {
            "authentication_type": "none",
            "endpoint": self.endpoint(base_url),
            "model_properties": [{"name": self.model, "supported_parameters": list(self.supported_parameters)}],
        }

    def credential_headers(self):
        return {}

    def refusal(self, recorded, body):
        if body.get("model") != self.model:
            return JSONResponse(
                {
                    "error": {
                        "message": f'model "{body.get("model")}" not found, try pulling it first',
                        "type": "not_found_error",
                        "param": None,
                        "code": None,
                    }
                },
                status_code=404,
            )
        return None

    def base(self):
        return {"id": "chatcmpl-417", "created": CREATED, "model": self.model, "system_fingerprint": "fp_ollama"}

    def completion(self, body, *, tool):
        message: dict[str, Any] = {"role": "assistant", "content": ANSWER}
        finish = "stop"
        if tool:
            message["content"] = ""
            message["tool_calls"] = [{"index": 0, **call} for call in self.expected_tool_calls()]
            finish = "tool_calls"
        return {
            **self.base(),
            "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": USAGE,
        }

    def stream(self, body, *, tool):
        def chunk(delta, finish=None):
            return {
                **self.base(),
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        if tool:
            # One delta carries the whole call; finish_reason "tool_calls" comes in its own chunk.
            calls = [{"index": 0, **call} for call in self.expected_tool_calls()]
            frames = [chunk({"role": "assistant", "content": "", "tool_calls": calls}), chunk({}, "tool_calls")]
        else:
            frames = [chunk({"role": "assistant", "content": ANSWER_PIECES[0]})]
            frames += [chunk({"content": piece}) for piece in ANSWER_PIECES[1:]]
            frames.append(chunk({}, "stop"))
        if include_usage(body):
            frames.append({**self.base(), "object": "chat.completion.chunk", "choices": [], "usage": USAGE})
        return sse(frames)


# ---------------------------------------------------------------------------------------------------------------
class OpenRouter(Profile):
    """OpenRouter: keep-alive comments, `reasoning` beside content, usage always in the final chunk."""

    name = "openrouter"
    model = "deepseek/deepseek-r1"
    tool_call_id = "call_or_2b7d0e"
    reasoning = REASONING
    supported_parameters = ["max_tokens", "temperature", "tools", "tool_choice"]

    def base(self):
        return {"id": "gen-1764460800-AbCdEf", "provider": "DeepInfra", "model": self.model, "created": CREATED}

    def completion(self, body, *, tool):
        message: dict[str, Any] = {
            "role": "assistant",
            "content": ANSWER,
            "refusal": None,
            "reasoning": REASONING,
            "reasoning_details": [{"type": "reasoning.text", "text": REASONING, "format": "unknown", "index": 0}],
        }
        finish = "stop"
        if tool:
            message.update(content="", reasoning=None, reasoning_details=[], tool_calls=self.expected_tool_calls())
            finish = "tool_calls"
        return {
            **self.base(),
            "object": "chat.completion",
            "choices": [
                {
                    "logprobs": None,
                    "finish_reason": finish,
                    "native_finish_reason": finish,
                    "index": 0,
                    "message": message,
                }
            ],
            "usage": {**USAGE, "cost": 0.0000231, "is_byok": False},
        }

    def chunk(self, delta, finish=None):
        return {
            **self.base(),
            "object": "chat.completion.chunk",
            "choices": [
                {"index": 0, "delta": delta, "finish_reason": finish, "native_finish_reason": finish, "logprobs": None}
            ],
        }

    def stream(self, body, *, tool):
        frames: list[Any] = [": OPENROUTER PROCESSING", ": OPENROUTER PROCESSING"]
        frames += [self.chunk({"role": "assistant", "content": "", "reasoning": piece}) for piece in REASONING_PIECES]
        frames += [self.chunk({"role": "assistant", "content": piece}) for piece in ANSWER_PIECES]
        frames.append(self.chunk({"role": "assistant", "content": ""}, "stop"))
        frames.append(
            {
                **self.base(),
                "object": "chat.completion.chunk",
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": ""},
                        "finish_reason": None,
                        "native_finish_reason": None,
                        "logprobs": None,
                    }
                ],
                "usage": {**USAGE, "cost": 0.0000231},
            }
        )
        return sse(frames)

    def stream_cut_by_error(self) -> list[str]:
        """A stream that fails after two pieces: the documented mid-stream error chunk, then [DONE]."""
        frames: list[Any] = [": OPENROUTER PROCESSING"]
        frames += [self.chunk({"role": "assistant", "content": piece}) for piece in ANSWER_PIECES[:2]]
        frames.append(
            {
                **self.base(),
                "object": "chat.completion.chunk",
                "error": {"code": "server_error", "message": "Provider disconnected unexpectedly"},
                "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
            }
        )
        return sse(frames)


# ---------------------------------------------------------------------------------------------------------------
class Groq(Profile):
    """Groq: `x_groq` on the first and last chunks, its usage (with timings) in the last; whole tool calls."""

    name = "groq"
    model = "llama-3.3-70b-versatile"
    tool_call_id = "call_groq_7pt2"
    GROQ_USAGE: ClassVar[dict] = {
        **USAGE,
        "queue_time": 0.0173,
        "prompt_time": 0.0021,
        "completion_time": 0.0103,
        "total_time": 0.0124,
    }

    def refusal(self, recorded, body):
        n = body.get("n")
        if isinstance(n, int) and n > 1:
            return JSONResponse(
                {"error": {"message": "'n' : number must be at most 1", "type": "invalid_request_error"}},
                status_code=400,
            )
        return None

    def base(self):
        return {
            "id": "chatcmpl-groq-6c1f",
            "created": CREATED,
            "model": self.model,
            "system_fingerprint": "fp_3f3b593e33",
        }

    def completion(self, body, *, tool):
        message: dict[str, Any] = {"role": "assistant", "content": ANSWER}
        finish = "stop"
        if tool:
            message = {"role": "assistant", "tool_calls": self.expected_tool_calls()}
            finish = "tool_calls"
        return {
            **self.base(),
            "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": self.GROQ_USAGE,
            "usage_breakdown": None,
            "x_groq": {"id": "req_01kconformance"},
            "service_tier": "on_demand",
        }

    def stream(self, body, *, tool):
        def chunk(delta, finish=None, **extra):
            return {
                **self.base(),
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                **extra,
            }

        frames = [chunk({"role": "assistant", "content": ""}, x_groq={"id": "req_01kconformance"})]
        if tool:
            frames.append(chunk({"tool_calls": [{"index": 0, **call} for call in self.expected_tool_calls()]}))
        else:
            frames += [chunk({"content": piece}) for piece in ANSWER_PIECES]
        last_extra: dict[str, Any] = {"x_groq": {"id": "req_01kconformance", "usage": self.GROQ_USAGE}}
        if include_usage(body):
            last_extra["usage"] = self.GROQ_USAGE
        frames.append(chunk({}, "tool_calls" if tool else "stop", **last_extra))
        return sse(frames)


# ---------------------------------------------------------------------------------------------------------------
class TGI(Profile):
    """Hugging Face Text Generation Inference's Messages API (/v1/chat/completions)."""

    name = "tgi"
    model = "tgi"
    tool_call_id = "0"
    SERVED_MODEL: ClassVar[str] = "meta-llama/Llama-3.1-8B-Instruct"
    supported_parameters = ["max_tokens", "temperature", "tools", "tool_choice"]

    def refusal(self, recorded, body):
        temperature = body.get("temperature")
        if temperature is not None and temperature <= 0:
            return JSONResponse(
                {
                    "error": "Input validation error: `temperature` must be strictly positive",
                    "error_type": "validation",
                },
                status_code=422,
            )
        return None

    def completion(self, body, *, tool):
        if tool:
            message: dict[str, Any] = {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "0",
                        "type": "function",
                        "function": {"description": None, "name": "get_weather", "arguments": TOOL_ARGUMENTS},
                    }
                ],
            }
            finish = "stop"  # TGI reports the grammar's end of sequence, not "tool_calls"
        else:
            message = {"role": "assistant", "content": ANSWER}
            finish = "stop"
        return {
            "object": "chat.completion",
            "id": "",
            "created": CREATED,
            "model": self.SERVED_MODEL,
            "system_fingerprint": "3.3.6-sha-7ec1d7d",
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": USAGE,
        }

    def expected_run(self, kind):
        expected = super().expected_run(kind)
        if kind == "tool_call":
            expected["finish_reason"] = "stop"
        return expected

    def stream(self, body, *, tool):
        base = {
            "object": "chat.completion.chunk",
            "id": "",
            "created": CREATED,
            "model": self.SERVED_MODEL,
            "system_fingerprint": "3.3.6-sha-7ec1d7d",
        }

        def chunk(content, finish=None):
            return {
                **base,
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": content},
                        "logprobs": None,
                        "finish_reason": finish,
                    }
                ],
                "usage": None,
            }

        frames = [chunk(piece) for piece in ANSWER_PIECES[:-1]]
        frames.append(chunk(ANSWER_PIECES[-1], "stop"))
        if include_usage(body):
            frames.append({**base, "choices": [], "usage": USAGE})
        return sse(frames)


PROFILES: list[type[Profile]] = [OpenAIReasoning, AzureOpenAI, VLLM, Ollama, OpenRouter, Groq, TGI]
# Profiles that also stream a tool call: in fragments (OpenAI, vLLM) or whole in one delta (Ollama, Groq).
STREAMED_TOOL_CALL_PROFILES: list[type[Profile]] = [OpenAIReasoning, VLLM, Ollama, Groq]
