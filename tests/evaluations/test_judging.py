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
