"""LLM-as-judge: the judge's messages for one output, and the strict reading of its answer."""

import json
import re
from dataclasses import dataclass

from prompts.templating import VARIABLE_RE, variable_value

DEFAULT_JUDGE_PROMPT = """You are grading the answer of an AI assistant.

Question or task given to the assistant:
{{input}}

The assistant's answer:
{{output}}

Score how correct, relevant and helpful the answer is, from 0 (useless or wrong) to 1 (excellent)."""

# Appended as a system message so that every judge prompt, whatever its wording, asks for the same answer shape.
ANSWER_FORMAT = (
    'Reply with only a JSON object of the form {"score": <number from 0 to 1>, "reason": "<one or two sentences>"}'
    " and nothing else."
)
RESERVED_VARIABLES = ("input", "output")
FENCE_RE = re.compile(r"^```[A-Za-z0-9_-]*\s*\n(?P<body>.*?)\n?```$", re.DOTALL)
# Reasoning models (DeepSeek-R1, QwQ, Qwen3 served by vLLM, Ollama or TGI without a reasoning parser) write their
# thinking as <think>...</think> before the answer; some chat templates put the opening tag in the prompt, so the
# answer starts inside the block and only the closing tag shows.
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
MAX_REASON = 2_000
MAX_THINKING = 20_000
# The verdict's shape as a JSON schema, sent as response_format to judge models that support it (OpenAI's
# Structured Outputs: "strict" needs every property required and no others).
VERDICT_SCHEMA = {
    "type": "object",
    "properties": {
        "score": {"type": "number", "minimum": 0, "maximum": 1},
        "reason": {"type": "string"},
    },
    "required": ["score", "reason"],
    "additionalProperties": False,
}
VERDICT_RESPONSE_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "verdict", "strict": True, "schema": VERDICT_SCHEMA},
}


@dataclass(frozen=True)
class Verdict:
    score: float
    reason: str
    thinking: str | None = None  # a <think> block before the verdict, set aside


class VerdictInvalid(ValueError):
    """A judge's answer that is not the JSON object the prompt asked for."""

    def __init__(self, message: str, *, thinking: str | None = None) -> None:
        super().__init__(message)
        self.thinking = thinking


def judge_parameters(*, parameters: dict, supported_parameters: list[str]) -> dict:
    """The metric's parameters for a judge run, asking for the verdict's JSON schema as `response_format` when the
    judge model supports it and the metric does not set one itself."""
    if "response_format" in supported_parameters and "response_format" not in parameters:
        return {**parameters, "response_format": VERDICT_RESPONSE_FORMAT}
    return parameters


def prompt_variables(prompt: str) -> list[str]:
    names: list[str] = []
    for name in VARIABLE_RE.findall(prompt):
        if name not in names:
            names.append(name)
    return names


def render_input(messages: list[dict]) -> str:
    """The prompt as the judge sees it: the message text, each prefixed by its role when there are several."""
    texts = [(m.get("role", ""), m.get("content")) for m in messages if isinstance(m.get("content"), str)]
    if len(texts) == 1:
        return texts[0][1]
    return "\n\n".join(f"{role}: {content}" for role, content in texts)


def render_output(output: str | None, tool_calls: list[dict] | None = None) -> str:
    """The answer as the judge sees it: its text, then each tool call the model made as `Tool call: name(arguments)`
    (an answer that only calls a tool has no text, and a judge must still see what it did)."""
    parts = [output] if output else []
    for call in tool_calls or []:
        function = call.get("function") or {}
        parts.append(f"Tool call: {function.get('name', '')}({function.get('arguments', '')})")
    return "\n".join(parts)


def judge_messages(*, prompt: str, input: str, output: str, row: dict[str, str]) -> list[dict]:
    """The judge prompt with {{input}}, {{output}} and the row's variables filled in (one pass, so an
    output that itself contains {{...}} is never expanded)."""
    values = {**row, "input": input, "output": output}

    def value(match: re.Match) -> str:
        text = variable_value(values, match.group(1))
        return match.group(0) if text is None else text

    content = VARIABLE_RE.sub(value, prompt)
    return [{"role": "system", "content": ANSWER_FORMAT}, {"role": "user", "content": content}]


def parse_verdict(answer: str | None, *, finish_reason: str | None = None) -> Verdict:
    """{"score": number in [0, 1], "reason": string}, optionally inside one ``` fenced block and after one
    <think>...</think> block (kept as `thinking`); nothing else.

    `finish_reason` "length" (the judge hit its token limit) turns an unreadable answer into a message saying so.
    """
    if answer is None or not answer.strip():
        raise VerdictInvalid(_cut_off(finish_reason) or "The judge gave an empty answer.")
    thinking = None
    text = answer.strip()
    opened = text.startswith(THINK_OPEN)
    if opened or (THINK_CLOSE in text and not text.startswith(("{", "```"))):
        inside, closed, after = text.removeprefix(THINK_OPEN).partition(THINK_CLOSE)
        thinking = inside.strip()[:MAX_THINKING] or None
        if not closed:
            raise VerdictInvalid(
                _cut_off(finish_reason) or "The judge's reasoning (<think>) never ends, so it gave no verdict.",
                thinking=thinking,
            )
        text = after.strip()
        if not text:
            raise VerdictInvalid(
                _cut_off(finish_reason) or "The judge wrote only its reasoning and no verdict.", thinking=thinking
            )
    try:
        verdict = _verdict(text, answer, finish_reason)
    except VerdictInvalid as exc:
        exc.thinking = thinking
        raise
    return Verdict(score=verdict.score, reason=verdict.reason, thinking=thinking)


def _cut_off(finish_reason: str | None) -> str | None:
    if finish_reason != "length":
        return None
    return (
        "The judge's answer was cut off by its token limit (finish_reason length) before a complete verdict;"
        " raise max_tokens in the metric's parameters."
    )


def _verdict(text: str, answer: str, finish_reason: str | None) -> Verdict:
    fenced = FENCE_RE.match(text)
    if fenced:
        text = fenced.group("body").strip()
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise VerdictInvalid(_cut_off(finish_reason) or f"The judge's answer is not JSON: {_excerpt(answer)}") from None
    if not isinstance(data, dict):
        raise VerdictInvalid(f"The judge's answer is not a JSON object: {_excerpt(answer)}")
    score = data.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float):
        raise VerdictInvalid(f'The judge\'s answer has no number "score": {_excerpt(answer)}')
    if not 0 <= score <= 1:
        raise VerdictInvalid(f"The judge's score {score} is outside 0 to 1.")
    reason = data.get("reason")
    if not isinstance(reason, str):
        raise VerdictInvalid(f'The judge\'s answer has no string "reason": {_excerpt(answer)}')
    return Verdict(score=float(score), reason=reason[:MAX_REASON])


def _excerpt(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return json.dumps(flat if len(flat) <= limit else flat[: limit - 1] + "…", ensure_ascii=False)
