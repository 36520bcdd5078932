import pytest

from evaluations.judging import ANSWER_FORMAT, Verdict, VerdictInvalid, judge_messages, parse_verdict, render_input


@pytest.mark.parametrize(
    "answer",
    [
        '{"score": 0.8, "reason": "Mostly right."}',
        '  {"reason": "Mostly right.", "score": 0.8}\n',
        '```json\n{"score": 0.8, "reason": "Mostly right."}\n```',
        '```\n{"score": 0.8, "reason": "Mostly right."}\n```',
    ],
)
def test_a_verdict_is_a_json_object_optionally_fenced(answer):
    assert parse_verdict(answer) == Verdict(score=0.8, reason="Mostly right.")


def test_integer_scores_at_the_bounds_are_accepted():
    assert parse_verdict('{"score": 1, "reason": ""}').score == 1.0
    assert parse_verdict('{"score": 0, "reason": "no"}').score == 0.0


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (None, "The judge gave an empty answer."),
        ("   ", "The judge gave an empty answer."),
        ("Great answer! 9/10", 'The judge\'s answer is not JSON: "Great answer! 9/10"'),
        ('Sure: {"score": 1, "reason": "x"}', "The judge's answer is not JSON"),
        ("[0.5]", "The judge's answer is not a JSON object"),
        ('{"score": "0.5", "reason": "x"}', 'has no number "score"'),
        ('{"score": true, "reason": "x"}', 'has no number "score"'),
        ('{"reason": "x"}', 'has no number "score"'),
        ('{"score": 7, "reason": "x"}', "The judge's score 7 is outside 0 to 1."),
        ('{"score": -0.1, "reason": "x"}', "outside 0 to 1"),
        ('{"score": NaN, "reason": "x"}', "outside 0 to 1"),
        ('{"score": 0.5}', 'has no string "reason"'),
        ('{"score": 0.5, "reason": 3}', 'has no string "reason"'),
    ],
)
def test_anything_else_is_a_clear_error(answer, message):
    with pytest.raises(VerdictInvalid) as caught:
        parse_verdict(answer)
    assert message in str(caught.value)


def test_judge_messages_fill_variables_once_and_ask_for_the_json_shape():
    messages = judge_messages(
        prompt="Q: {{input}}\nA: {{output}}\nRef: {{expected}}\nUnknown: {{nope}}",
        input="What is 2+2?",
        output="4 {{expected}}",
        row={"expected": "4"},
    )
    assert messages[0] == {"role": "system", "content": ANSWER_FORMAT}
    # The output's own {{expected}} is not expanded; an unknown variable stays as written.
    assert messages[1]["content"] == "Q: What is 2+2?\nA: 4 {{expected}}\nRef: 4\nUnknown: {{nope}}"


def test_render_input_prefixes_roles_only_with_several_messages():
    assert render_input([{"role": "user", "content": "Hi"}]) == "Hi"
    assert render_input([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]) == (
        "system: Be brief.\n\nuser: Hi"
    )


# Reasoning models as they really answer (DeepSeek-R1, QwQ, Qwen3 behind vLLM, Ollama or TGI without a reasoning
# parser): the thinking comes first in the content, sometimes without its opening tag.
@pytest.mark.parametrize(
    "answer",
    [
        '<think>\nThe answer says 2, which is right.\n</think>\n\n{"score": 0.8, "reason": "Mostly right."}',
        'The answer says 2, which is right.\n</think>\n{"score": 0.8, "reason": "Mostly right."}',
        '<think>The answer says 2, which is right.</think>```json\n{"score": 0.8, "reason": "Mostly right."}\n```',
    ],
)
def test_a_think_block_before_the_verdict_is_set_aside_and_kept(answer):
    verdict = parse_verdict(answer)
    assert (verdict.score, verdict.reason) == (0.8, "Mostly right.")
    assert verdict.thinking == "The answer says 2, which is right."


def test_a_reason_that_mentions_a_think_tag_is_not_mistaken_for_thinking():
    verdict = parse_verdict('{"score": 1, "reason": "It closes its </think> tag."}')
    assert verdict == Verdict(score=1.0, reason="It closes its </think> tag.")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("<think>Let me weigh this. The answer", "The judge's reasoning (<think>) never ends"),
        ("<think>Weighing.</think>\n", "The judge wrote only its reasoning and no verdict."),
        ("<think>Weighing.</think> Score: 0.5", "The judge's answer is not JSON"),
    ],
)
def test_thinking_without_a_verdict_is_unusable_and_keeps_the_thinking(answer, message):
    with pytest.raises(VerdictInvalid) as caught:
        parse_verdict(answer)
    assert message in str(caught.value)
    assert caught.value.thinking and caught.value.thinking.startswith("Weighing" if "Weighing" in answer else "Let me")


@pytest.mark.parametrize(
    "answer", ['{"score": 0.9, "reason": "The answer covers', "<think>First, the question asks", "", None]
)
def test_a_verdict_cut_off_by_the_token_limit_says_so(answer):
    with pytest.raises(VerdictInvalid) as caught:
        parse_verdict(answer, finish_reason="length")
    assert "cut off by its token limit (finish_reason length)" in str(caught.value)
    assert "max_tokens" in str(caught.value)


def test_a_complete_verdict_stands_even_when_the_limit_was_reached():
    assert parse_verdict('{"score": 1, "reason": "ok"}', finish_reason="length").score == 1.0


def test_the_verdict_schema_is_asked_for_only_where_the_model_supports_response_format():
    from evaluations.judging import VERDICT_RESPONSE_FORMAT, judge_parameters

    assert judge_parameters(parameters={"temperature": 0}, supported_parameters=["temperature"]) == {"temperature": 0}
    assert judge_parameters(parameters={}, supported_parameters=["response_format"]) == {
        "response_format": VERDICT_RESPONSE_FORMAT
    }
    own = {"response_format": {"type": "json_object"}}
    assert judge_parameters(parameters=own, supported_parameters=["response_format"]) == own
    schema = VERDICT_RESPONSE_FORMAT["json_schema"]["schema"]
    # OpenAI's strict Structured Outputs: every property required, no others.
    assert set(schema["required"]) == set(schema["properties"]) and schema["additionalProperties"] is False
