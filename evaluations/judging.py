"""LLM-as-judge: the judge's messages for one output, and the strict reading of its answer."""

import json
import re
from dataclasses import dataclass

from prompts.templating import VARIABLE_RE

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
MAX_REASON = 2_000


@dataclass(frozen=True)
class Verdict:
    score: float
    reason: str


class VerdictInvalid(ValueError):
    """A judge's answer that is not the JSON object the prompt asked for."""


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


def judge_messages(*, prompt: str, input: str, output: str, row: dict[str, str]) -> list[dict]:
    """The judge prompt with {{input}}, {{output}} and the row's variables filled in (one pass, so an
    output that itself contains {{...}} is never expanded)."""
    values = {**row, "input": input, "output": output}
    content = VARIABLE_RE.sub(lambda match: values.get(match.group(1), match.group(0)), prompt)
    return [{"role": "system", "content": ANSWER_FORMAT}, {"role": "user", "content": content}]


def parse_verdict(answer: str | None) -> Verdict:
    """{"score": number in [0, 1], "reason": string}, optionally inside one ``` fenced block; nothing else."""
    if answer is None or not answer.strip():
        raise VerdictInvalid("The judge gave an empty answer.")
    text = answer.strip()
    fenced = FENCE_RE.match(text)
    if fenced:
        text = fenced.group("body").strip()
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise VerdictInvalid(f"The judge's answer is not JSON: {_excerpt(answer)}") from None
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
