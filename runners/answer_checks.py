"""Answers that arrive well formed but say nothing: turned into failures that say why."""

from runners.completion import Reply
from runners.failures import FailureKind
from runners.transport import TransportError


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
