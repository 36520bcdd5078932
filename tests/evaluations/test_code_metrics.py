"""Code metrics: each check's scoring with its edge cases, validation when saved (with paths), the API, scoring in
an evaluation without a judge run, and in the Playground's scoring endpoint."""

import time

import pytest

from core.problems import Invalid
from evaluations.code_metrics import CodeCheckError, code_config_clean, code_score
from evaluations.models import JudgeRun, MetricScore
from evaluations.services.lifecycle import evaluation_create
from evaluations.services.metrics import metric_create
from evaluations.services.scoring import run_scores_request
from runners.models import Run
from tests.api.conftest import client_for
from tests.evaluations.conftest import finish, logged_in


def score(config, output, row=None):
    return code_score(code_config_clean(config), output, row).score


def problems(config):
    with pytest.raises(Invalid) as caught:
        code_config_clean(config)
    return {(error.loc, error.type) for error in caught.value.errors}


EXPECTED = {"reference": {"column": "expected"}}


def test_exact_match_and_contains_with_their_options():
    assert score({"check": "exact_match", **EXPECTED}, "Paris", {"expected": "Paris"}) == 1
    assert score({"check": "exact_match", **EXPECTED}, "Paris ", {"expected": "Paris"}) == 0
    assert score({"check": "exact_match", **EXPECTED}, "paris", {"expected": "Paris"}) == 0
    loose = {"check": "exact_match", "ignore_case": True, "ignore_whitespace": True, **EXPECTED}
    assert score(loose, "  PARIS\n", {"expected": "Paris"}) == 1
    assert score(loose, "New  York", {"expected": "new york"}) == 1
    assert score({"check": "contains", "reference": {"value": "42"}}, "The answer is 42.") == 1
    assert score({"check": "contains", "reference": {"value": "42"}}, None) == 0  # no text is empty text
    # A dotted path into a JSONL object.
    nested = {"check": "exact_match", "reference": {"column": "answer.city"}}
    assert score(nested, "Oslo", {"answer": {"city": "Oslo"}}) == 1
    with pytest.raises(CodeCheckError, match=r"no value for \{\{expected\}\}"):
        code_score(code_config_clean({"check": "exact_match", **EXPECTED}), "x", {"question": "q"})


def test_regular_expressions_compile_when_saved_and_time_out_when_run():
    assert score({"check": "regex", "reference": {"value": r"^\d{4}-\d{2}-\d{2}$"}}, "2026-11-30") == 1
    assert score({"check": "regex", "reference": {"value": r"\d+"}, "match": "full"}, "12a") == 0
    assert score({"check": "regex", "reference": {"value": "yes"}, "ignore_case": True}, "YES!") == 1
    assert problems({"check": "regex", "reference": {"value": "(unclosed"}}) == {
        (("code", "reference", "value"), "regex")
    }
    with pytest.raises(Invalid) as caught:
        code_config_clean({"check": "regex", "reference": {"value": "[a-"}})
    assert "Not a valid regular expression" in caught.value.errors[0].message
    catastrophic = code_config_clean({"check": "regex", "reference": {"value": r"(a|aa)+$"}})
    started = time.monotonic()
    with pytest.raises(CodeCheckError, match="longer than"):
        code_score(catastrophic, "a" * 60 + "b", None)
    assert time.monotonic() - started < 3
    # A pattern from a column is compiled when scored: a bad one is an error on that score.
    from_column = code_config_clean({"check": "regex", "reference": {"column": "pattern"}})
    with pytest.raises(CodeCheckError, match="regular expression"):
        code_score(from_column, "x", {"pattern": "(("})


def test_valid_json_is_rfc_8259():
    config = {"check": "valid_json"}
    assert score(config, '{"a": [1, 2.5, null]}') == 1
    assert score(config, "  [1]  ") == 1
    assert score(config, "{'a': 1}") == 0
    assert score(config, "") == 0
    verdict = code_score(code_config_clean(config), '{"x": NaN}', None)
    assert verdict.score == 0 and "NaN" in verdict.reason  # Python's json would accept it
    assert score(config, "Infinity") == 0
    assert problems({"check": "valid_json", "reference": {"value": "x"}}) == {
        (("code", "reference"), "extra_forbidden")
    }


def test_json_schema_is_checked_when_saved_and_explains_a_mismatch():
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
        "required": ["name"],
    }
    config = {"check": "json_schema", "reference": {"value": schema}}
    assert score(config, '{"name": "Ada", "age": 36}') == 1
    verdict = code_score(code_config_clean(config), '{"name": "Ada", "age": -1}', None)
    assert verdict.score == 0 and verdict.reason.startswith("At age:")
    assert score(config, '{"age": 3}') == 0
    assert score(config, "not json") == 0
    # The schema as text is parsed; an invalid schema is refused with its path.
    assert code_config_clean({"check": "json_schema", "reference": {"value": '{"type": "array"}'}})["reference"] == {
        "value": {"type": "array"}
    }
    assert problems({"check": "json_schema", "reference": {"value": {"type": "strin"}}}) == {
        (("code", "reference", "value"), "json_schema")
    }
    assert problems({"check": "json_schema", "reference": {"value": "{nope"}}) == {
        (("code", "reference", "value"), "json_invalid")
    }
    from_column = code_config_clean({"check": "json_schema", "reference": {"column": "schema"}})
    with pytest.raises(CodeCheckError, match="not a valid JSON schema"):
        code_score(from_column, "{}", {"schema": '{"type": 12}'})


def test_numeric_closeness_tolerances_distance_and_nan():
    close = {"check": "numeric_close", "abs_tol": 0.01, **EXPECTED}
    assert score(close, "3.14159", {"expected": "3.14"}) == 1
    assert score(close, "3.2", {"expected": "3.14"}) == 0
    assert score({"check": "numeric_close", "rel_tol": 0.1, **EXPECTED}, "105", {"expected": "100"}) == 1
    assert score(close, "NaN", {"expected": "3.14"}) == 0  # not a finite number
    assert score(close, "about 3", {"expected": "3"}) == 0
    with pytest.raises(CodeCheckError, match="not a finite number"):
        code_score(code_config_clean(close), "1", {"expected": "nan"})
    distance = {"check": "numeric_close", "score": "distance", "reference": {"value": 200}}
    assert score(distance, "150") == pytest.approx(0.75)  # 1 - 50 / 200
    assert score(distance, "1000") == 0
    assert score({"check": "numeric_close", "score": "distance", "reference": {"value": 0}}, "0.25") == 0.75
    assert problems({"check": "numeric_close", "abs_tol": -1, "reference": {"value": "x"}}) == {
        (("code", "abs_tol"), "number_range"),
        (("code", "reference", "value"), "float_type"),
    }


def test_config_problems_have_paths():
    assert problems({"check": "nope"}) == {(("code", "check"), "enum")}
    assert problems("exact") == {(("code",), "dict_type")}
    assert problems({"check": "exact_match"}) == {(("code", "reference"), "reference")}
    assert problems({"check": "contains", "reference": {"value": "x"}, "match": "full", "ignore_case": 1}) == {
        (("code", "match"), "extra_forbidden"),
        (("code", "ignore_case"), "bool_type"),
    }


def test_api_creates_code_metrics_and_answers_422_with_paths(admin_user):
    api = client_for(admin_user)
    created = api.post(
        "/api/v2/metrics",
        {"name": "Exact", "kind": "code", "code": {"check": "exact_match", "reference": {"column": "expected"}}},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["kind"] == "code" and body["judges"] == 0 and body["judge_model"] == ""
    assert body["code"] == {
        "check": "exact_match",
        "ignore_case": False,
        "ignore_whitespace": False,
        "reference": {"column": "expected"},
    }
    bad = api.post(
        "/api/v2/metrics",
        {
            "name": "Bad",
            "kind": "code",
            "judge_model": "Judge",
            "code": {"check": "regex", "reference": {"value": "("}},
        },
        format="json",
    )
    assert bad.status_code == 422
    assert {tuple(p["loc"]) for p in bad.json()["detail"]} == {
        ("body", "judge_model"),
        ("body", "code", "reference", "value"),
    }
    missing = api.post("/api/v2/metrics", {"name": "No code", "kind": "code"}, format="json")
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "code"]
    # An LLM judge still needs its model and prompt.
    judge = api.post("/api/v2/metrics", {"name": "Judge without model"}, format="json")
    assert judge.status_code == 422
    assert {tuple(p["loc"]) for p in judge.json()["detail"]} >= {("body", "judge_model"), ("body", "prompt")}
    from evaluations.models import Metric

    assert not Metric.objects.filter(name__in=["Bad", "No code", "Judge without model"]).exists()


def test_an_evaluation_scores_code_metrics_without_judge_runs(org, admin_user, provider, make_dataset):
    exact = metric_create(
        organization=org,
        user=admin_user,
        name="Exact",
        kind="code",
        code={"check": "exact_match", "reference": {"column": "expected"}},
    )
    evaluation = evaluation_create(
        organization=org,
        user=admin_user,
        dataset=make_dataset(3).uuid,
        messages=[{"role": "user", "content": "{{question}}"}],
        models=[{"model": "model-a"}],
        metrics=[exact.uuid],
    )
    assert evaluation.judges_per_output == 0
    runs = list(Run.objects.filter(job=evaluation.job).order_by("evaluation_result__row__index"))
    finish(runs[:1], output="2")  # row 1 expects 2
    finish(runs[1:], output="5")
    evaluation.refresh_from_db()
    assert evaluation.finished_at is not None
    scores = {s.result.row.index: s for s in MetricScore.objects.filter(result__evaluation=evaluation)}
    assert {index: s.mean for index, s in scores.items()} == {1: 1.0, 2: 0.0, 3: 0.0}
    assert scores[1].judgements[0]["reason"] == 'The output equals "2".'
    assert not JudgeRun.objects.exists() and not Run.objects.filter(job=evaluation.judge_job).exists()
    page = logged_in(admin_user).get(f"/evaluations/{evaluation.pk}")
    assert page.status_code == 200 and "Exact" in page.content.decode()


def test_a_code_metric_column_must_be_in_the_dataset(org, admin_user, provider, make_dataset):
    metric = metric_create(
        organization=org,
        user=admin_user,
        name="Gold",
        kind="code",
        code={"check": "contains", "reference": {"column": "gold"}},
    )
    with pytest.raises(Invalid) as caught:
        evaluation_create(
            organization=org,
            user=admin_user,
            dataset=make_dataset(2).uuid,
            messages=[{"role": "user", "content": "{{question}}"}],
            models=[{"model": "model-a"}],
            metrics=[metric.uuid],
        )
    [problem] = caught.value.errors
    assert problem.loc == ("metrics", 0) and "{{gold}}" in problem.message


def test_playground_scores_with_a_constant_and_refuses_a_column(org, admin_user, provider):
    from integrations.selectors import model_get
    from runners.services import run_enqueue

    run = run_enqueue(
        model=model_get(organization=org, alias="model-a"),
        messages=[{"role": "user", "content": "hi"}],
        user=admin_user,
    )
    finish([run], output='{"ok": true}', announce=False)
    valid_json = metric_create(
        organization=org, user=admin_user, name="JSON", kind="code", code={"check": "valid_json"}
    )
    [scored] = run_scores_request(organization=org, user=admin_user, metric=valid_json, runs=[str(run.pk)])
    assert scored.status == "scored" and scored.mean == 1.0 and scored.result_id is None
    # Asking again answers the same score.
    [again] = run_scores_request(organization=org, user=admin_user, metric=valid_json, runs=[str(run.pk)])
    assert again.pk == scored.pk
    column = metric_create(
        organization=org,
        user=admin_user,
        name="Exact",
        kind="code",
        code={"check": "exact_match", "reference": {"column": "expected"}},
    )
    with pytest.raises(Invalid) as caught:
        run_scores_request(organization=org, user=admin_user, metric=column, runs=[str(run.pk)])
    assert caught.value.errors[0].loc == ("metric",)
    assert "only a dataset row can fill" in caught.value.errors[0].message
    api = client_for(admin_user)
    response = api.post(f"/api/v2/metrics/{valid_json.uuid}/scores", {"runs": [str(run.pk)]}, format="json")
    assert response.status_code == 202 and response.json()[0]["mean"] == 1.0
    playground = logged_in(admin_user).get("/playground").content.decode()
    assert "Exact (needs a dataset)" in playground


def test_the_metrics_page_saves_a_code_check_or_shows_its_problems_by_field(org, admin_user, provider):
    client = logged_in(admin_user)
    page = client.get("/evaluations/metrics").content.decode()
    assert 'id="code-metric-form"' in page and 'name="code-check"' in page
    bad = client.post(
        "/evaluations/metrics/code",
        {"code-name": "Dates", "code-check": "regex", "code-value": "([0-9]", "code-match": "full"},
    )
    assert bad.status_code == 422
    html = bad.content.decode()
    assert 'id="id_code-value_error"' in html and "Not a valid regular expression" in html
    assert 'data-path="code.reference.value"' in html
    saved = client.post(
        "/evaluations/metrics/code",
        {"code-name": "Dates", "code-check": "regex", "code-value": r"^\d{4}$", "code-match": "full"},
    )
    assert saved.status_code == 302
    from evaluations.models import Metric

    metric = Metric.objects.get(name="Dates")
    assert metric.code == {"check": "regex", "ignore_case": False, "match": "full", "reference": {"value": r"^\d{4}$"}}
    listing = client.get("/evaluations/metrics").content.decode()
    assert "Regular expression · ^\\d{4}$" in listing
    new = client.get("/evaluations/new").content.decode()
    assert "code check: Regular expression" in new
