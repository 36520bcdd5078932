"""The provider's answer parsed into typed models: Chat Completions, streamed chunks, and what a run keeps."""

import time
from dataclasses import dataclass, field
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from runners.tool_calls import ToolCallMerger, normalized_tool_calls


class _Lenient(BaseModel):
    # Providers add fields of their own; keep them in the stored response, ignore them here.
    model_config = ConfigDict(extra="allow")


class Usage(_Lenient):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None

    def as_record(self) -> dict[str, int]:
        prompt = self.prompt_tokens or 0
        completion = self.completion_tokens or 0
        total = self.total_tokens if self.total_tokens is not None else prompt + completion
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}


class Message(_Lenient):
    role: str | None = None
    content: str | list[Any] | None = None
    tool_calls: list[Any] | None = None
    refusal: str | None = None
    # The model's reasoning: `reasoning_content` (DeepSeek, vLLM), `reasoning` (OpenRouter, Ollama, newer vLLM).
    reasoning_content: Any = None
    reasoning: Any = None

    def reasoning_text(self) -> str:
        for value in (self.reasoning_content, self.reasoning):
            if isinstance(value, str) and value:
                return value
        return ""


class Choice(_Lenient):
    index: int = 0
    message: Message
    finish_reason: str | None = None


class ChatCompletion(_Lenient):
    id: str | None = None
    model: str | None = None
    choices: list[Choice] = Field(min_length=1)
    usage: Usage | None = None


class Delta(Message):
    content: str | None = None


class ChunkChoice(_Lenient):
    index: int = 0
    delta: Delta | None = None  # some servers send "delta": null with the finish_reason
    finish_reason: str | None = None


class ChatCompletionChunk(_Lenient):
    id: str | None = None
    model: str | None = None
    choices: list[ChunkChoice] = Field(default_factory=list)
    usage: Usage | None = None


class MalformedCompletion(ValueError):
    """The answer is JSON but not a Chat Completion; the message names the first problem."""


def _first_problem(exc: pydantic.ValidationError) -> str:
    error = exc.errors()[0]
    location = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(".")
    return f"{location or 'the body'}: {error['msg']}"


def parse_completion(data: Any) -> ChatCompletion:
    try:
        return ChatCompletion.model_validate(data)
    except pydantic.ValidationError as exc:
        raise MalformedCompletion(_first_problem(exc)) from None


def parse_chunk(data: Any) -> ChatCompletionChunk:
    try:
        return ChatCompletionChunk.model_validate(data)
    except pydantic.ValidationError as exc:
        raise MalformedCompletion(f"stream chunk {_first_problem(exc)}") from None


def _text(content: str | list[Any] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    # Content parts: keep the text ones.
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


@dataclass
class Reply:
    """What a run keeps of a successful answer."""

    output: str
    finish_reason: str | None
    usage: dict[str, int] | None
    response: dict[str, Any]
    status_code: int | None = None
    # Streamed answers: from the accumulator's creation (just before the request is sent) to the first content.
    time_to_first_token_ms: float | None = None
    # OpenAI's shape (runners.tool_calls); None when the model called no tool.
    tool_calls: list[dict[str, Any]] | None = None
    reasoning: str | None = None


def reply_from_completion(completion: ChatCompletion, *, status_code: int | None = None) -> Reply:
    first = min(completion.choices, key=lambda choice: choice.index)
    return Reply(
        output=_text(first.message.content),
        finish_reason=first.finish_reason,
        usage=completion.usage.as_record() if completion.usage else None,
        response=completion.model_dump(mode="json", exclude_none=True),
        status_code=status_code,
        tool_calls=normalized_tool_calls(first.message.tool_calls),
        reasoning=first.message.reasoning_text() or None,
    )


@dataclass
class StreamAccumulator:
    """Folds streamed chunks into one completion; `text` is readable from another thread while it grows."""

    text: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None
    id: str | None = None
    model: str | None = None
    chunks: int = 0
    reasoning: str = ""
    tool_calls: ToolCallMerger = field(default_factory=ToolCallMerger)
    created: float = field(default_factory=time.monotonic)
    first_token_at: float | None = None

    def add(self, chunk: ChatCompletionChunk) -> None:
        self.chunks += 1
        self.id = self.id or chunk.id
        self.model = self.model or chunk.model
        if chunk.usage is not None:
            self.usage = chunk.usage
        for choice in chunk.choices:
            if choice.index != 0:
                continue
            delta = choice.delta or Delta()
            if self.first_token_at is None and (delta.content or delta.tool_calls or delta.reasoning_text()):
                self.first_token_at = time.monotonic()
            self.text += delta.content or ""
            self.reasoning += delta.reasoning_text()
            if delta.tool_calls:
                self.tool_calls.add(delta.tool_calls)
            if choice.finish_reason:
                self.finish_reason = choice.finish_reason

    @property
    def began(self) -> bool:
        """Whether the provider has begun returning output (content, reasoning or a tool call; a chunk with only
        the role or usage, or a keep-alive, is not output)."""
        return self.first_token_at is not None

    def reply(self, *, status_code: int | None = None) -> Reply:
        tool_calls = self.tool_calls.calls() or None
        message: dict[str, Any] = {"role": "assistant", "content": self.text if self.text or not tool_calls else None}
        if tool_calls:
            message["tool_calls"] = tool_calls
        if self.reasoning:
            message["reasoning_content"] = self.reasoning
        response: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion",
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason}],
            "streamed_chunks": self.chunks,
        }
        usage = self.usage.as_record() if self.usage else None
        if usage:
            response["usage"] = usage
        first_token_ms = (self.first_token_at - self.created) * 1000 if self.first_token_at is not None else None
        return Reply(
            self.text,
            self.finish_reason,
            usage,
            response,
            status_code,
            first_token_ms,
            tool_calls=tool_calls,
            reasoning=self.reasoning or None,
        )
