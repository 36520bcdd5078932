"""Answers that arrive well formed but say nothing: turned into failures that say why."""

from runners.completion import Reply
from runners.failures import FailureKind
from runners.transport import TransportError


def answer_failure(reply: Reply) -> TransportError | None:
    """A failure for a well-formed answer that is not one (see the functions below), else None."""
    return empty_answer_failure(reply) or error_finish_failure(reply)


def error_finish_failure(reply: Reply) -> TransportError | None:
    """A failure for an answer that ended with `finish_reason: "error"` and no error object (OpenRouter and Gemini
    end a generation their upstream abandoned this way); what arrived before is kept."""
    if reply.finish_reason != "error":
        return None
    error = TransportError(
        'The provider ended the answer with finish_reason "error" and no error message.',
        permanent=True,
        error_type=FailureKind.PROVIDER_ERROR,
        status_code=reply.status_code,
    )
    error.partial = reply
    return error


def empty_answer_failure(reply: Reply) -> TransportError | None:
    """A failure for an answer with no content and no tool call that stopped on `length`, else None.

    A reasoning model can spend its whole token budget thinking (OpenAI's o-series and gpt-5 count reasoning tokens
    in `max_completion_tokens`; DeepSeek and vLLM send them as `reasoning_content`): the run then fails as
    `length_without_answer` rather than passing as an empty success, and keeps the reasoning and usage received.
    """
    if reply.output or reply.tool_calls or reply.finish_reason != "length":
        return None
    spent = (reply.usage or {}).get("completion_tokens")
    used = f" after {spent} completion tokens" if spent else ""
    thought = " (all of them on reasoning)" if reply.reasoning else ""
    error = TransportError(
        f'The model stopped at its token limit (finish_reason "length"){used}{thought} before writing any answer: '
        "raise max_tokens, or lower the reasoning effort.",
        permanent=True,
        error_type=FailureKind.LENGTH_WITHOUT_ANSWER,
        status_code=reply.status_code,
    )
    error.partial = reply
    return error
