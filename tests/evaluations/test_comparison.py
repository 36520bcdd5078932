"""Comparing evaluations of one dataset: the statistics against a worked example, the API (JSON, CSV, 404/422),
the page, and a number of queries that does not grow with rows."""

import csv
import io
import math

import pytest

from evaluations.comparison import comparison_get
from evaluations.models import EvaluationResult, MetricScore
from evaluations.services.lifecycle import evaluation_create
from evaluations.statistics import paired_change, t_quantile
from runners.models import Run
from tests.api.conftest import client_for
from tests.evaluations.conftest import csv_text, finish, logged_in

PROMPT = [{"role": "user", "content": "{{question}}"}]
# The worked example: 5 rows, the baseline's and the candidate's score per row (None: not scored).
BASELINE = [0.2, 0.5, 0.5, 1.0, 0.0]
CANDIDATE = [0.6, 0.5, 0.7, 0.8, None]


def scored_evaluation(org, user, dataset, metric, scores, *, name, model="model-a", output="answer"):
    evaluation = evaluation_create(
        organization=org,
        user=user,
        name=name,
        dataset=dataset.uuid,
        messages=PROMPT,
        models=[{"model": model}],
        metrics=[metric.uuid],
    )
    finish(list(Run.objects.filter(job=evaluation.job)), output=output, announce=False)
    results = {r.row.index: r for r in EvaluationResult.objects.filter(evaluation=evaluation).select_related("row")}
    MetricScore.objects.bulk_create(
        [
            MetricScore(
                result=results[index],
                scored_run_id=results[index].run_id,
                metric=metric,
                status="scored" if value is not None else "failed",
                mean=value,
                error="" if value is not None else "judge failed",
            )
            for index, value in enumerate(scores, start=1)
        ]
    )
    return evaluation


@pytest.fixture
def pair(org, admin_user, provider, judge_integration, make_dataset, make_metric):
    dataset = make_dataset(5)
    metric = make_metric()
    baseline = scored_evaluation(org, admin_user, dataset, metric, BASELINE, name="Prompt v1")
    candidate = scored_evaluation(org, admin_user, dataset, metric, CANDIDATE, name="Prompt v2", output="=1+1")
    return baseline, candidate, metric, dataset


def test_t_quantiles_match_the_tables():
    # Student's t, 97.5 % quantile (any statistics table).
    assert t_quantile(0.975, 1) == pytest.approx(12.7062, abs=1e-4)
    assert t_quantile(0.975, 3) == pytest.approx(3.18245, abs=1e-5)
    assert t_quantile(0.975, 4) == pytest.approx(2.77645, abs=1e-5)
    assert t_quantile(0.975, 30) == pytest.approx(2.04227, abs=1e-5)
    assert t_quantile(0.975, 10_000) == pytest.approx(1.96020, abs=1e-4)


def test_paired_change_edge_cases():
    assert paired_change([]).mean is None and paired_change([]).n == 0
    one = paired_change([0.5])
    assert (one.mean, one.low, one.high, one.better) == (0.5, None, None, 1)
    constant = paired_change([0.25, 0.25, 0.25])
    assert constant.low == constant.high == pytest.approx(0.25)


def test_the_comparison_matches_the_worked_example(pair, org):
    baseline, candidate, metric, _ = pair
    comparison = comparison_get(organization=org, ids=[str(baseline.pk), str(candidate.pk)])
    [stats] = comparison.stats
    base, other = stats.columns
    # Means of the scored rows: (0.2 + 0.5 + 0.5 + 1 + 0) / 5 and (0.6 + 0.5 + 0.7 + 0.8) / 4.
    assert base.mean == pytest.approx(0.44) and base.scored == 5 and base.change is None
    assert other.mean == pytest.approx(0.65) and other.scored == 4
    # Rows 1-4 are paired; differences 0.4, 0, 0.2, -0.2: mean 0.1, sample sd sqrt(0.2 / 3),
    # half width t(0.975, 3) * sd / sqrt(4) = 3.182446 * 0.1290994 = 0.410852.
    change = other.change
    assert change.n == 4
    assert change.mean == pytest.approx(0.1)
    half = 3.182446305 * math.sqrt(0.2 / 3) / 2
    assert half == pytest.approx(0.410852, abs=1e-6)
    assert change.low == pytest.approx(0.1 - half, abs=1e-6)
    assert change.high == pytest.approx(0.1 + half, abs=1e-6)
    assert (change.better, change.worse, change.same) == (2, 1, 1)
    by_index = {row.index: row for row in comparison.rows}
    assert [by_index[i].change(metric.uuid, 1) for i in range(1, 6)] == [
        "better",
        "unchanged",
        "better",
        "worse",
        None,
    ]


def test_rows_are_filtered_and_sorted_by_their_paired_difference(pair, org):
    baseline, candidate, metric, _ = pair
    ids = f"{baseline.pk},{candidate.pk}"
    worse = comparison_get(organization=org, ids=ids, show="worse")
    assert [row.index for row in worse.rows] == [4] and worse.total_rows == 5
    improved = comparison_get(organization=org, ids=ids, sort="-change", focus=f"{metric.uuid}:1")
    # 0.4, 0.2, 0, -0.2, then the row without a pair.
    assert [row.index for row in improved.rows] == [1, 3, 2, 4, 5]


def test_api_compares_and_its_numbers_are_the_pages(pair, admin_user):
    baseline, candidate, metric, dataset = pair
    api = client_for(admin_user)
    response = api.get(f"/api/v2/evaluations/compare?ids={baseline.pk},{candidate.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["dataset"] == str(dataset.uuid) and body["interval"] == "paired_t"
    assert [c["name"] for c in body["columns"]] == ["Prompt v1", "Prompt v2"]
    [entry] = body["metrics"]
    change = entry["columns"][1]["change"]
    assert change["paired"] == 4 and change["mean"] == pytest.approx(0.1)
    assert change["ci_low"] == pytest.approx(-0.310852, abs=1e-5)
    assert change["ci_high"] == pytest.approx(0.510852, abs=1e-5)
    assert (change["better"], change["worse"], change["unchanged"]) == (2, 1, 1)
    assert body["rows"][3]["cells"][1]["changes"] == {str(metric.uuid): "worse"}
    # The same ids repeated instead of comma-separated.
    again = api.get(f"/api/v2/evaluations/compare?ids={baseline.pk}&ids={candidate.pk}")
    assert again.json()["metrics"] == body["metrics"]

    page = logged_in(admin_user).get(f"/evaluations/compare?ids={baseline.pk},{candidate.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "[-0.311, 0.511]" in html and "0.100" in html and "▼ worse" in html


def test_csv_has_a_bom_escaped_formulas_and_the_summary(pair, admin_user):
    baseline, candidate, _, _ = pair
    api = client_for(admin_user)
    response = api.get(f"/api/v2/evaluations/compare.csv?ids={baseline.pk},{candidate.pk}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    header = lines[0]
    assert header[:3] == ["row", "question", "expected"]
    assert "Prompt v2 · model-a output" in header
    row4 = dict(zip(header, lines[4], strict=True))
    assert row4["Prompt v2 · model-a output"] == "'=1+1"  # a formula, escaped
    assert row4["Correctness change Prompt v2 · model-a"] == "worse"
    assert row4["Prompt v1 · model-a Correctness"] == "1"

    summary = api.get(f"/api/v2/evaluations/compare.csv?ids={baseline.pk},{candidate.pk}&part=summary")
    rows = list(csv.DictReader(io.StringIO(b"".join(summary.streaming_content).decode().removeprefix("\ufeff"))))
    assert rows[0]["baseline"] == "yes" and rows[0]["mean"] == "0.44"
    assert rows[1]["change"] == "0.1" and rows[1]["ci_low"] == "-0.310852" and rows[1]["paired"] == "4"
    bad = api.get(f"/api/v2/evaluations/compare.csv?ids={baseline.pk},{candidate.pk}&part=all")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "part"]


def test_errors_have_paths(pair, org, admin_user, other_admin, make_dataset, make_metric):
    baseline, candidate, metric, _ = pair
    api = client_for(admin_user)
    one = api.get(f"/api/v2/evaluations/compare?ids={baseline.pk}")
    assert one.status_code == 422 and one.json()["detail"][0]["loc"] == ["query", "ids"]
    twice = api.get(f"/api/v2/evaluations/compare?ids={baseline.pk},{baseline.pk}")
    assert twice.status_code == 422 and twice.json()["detail"][0]["loc"] == ["query", "ids", 1]
    other_dataset = make_dataset(5, text=csv_text(5), name="Sums v2")
    elsewhere = scored_evaluation(org, admin_user, other_dataset, metric, BASELINE, name="Other data")
    mixed = api.get(f"/api/v2/evaluations/compare?ids={baseline.pk},{candidate.pk},{elsewhere.pk}")
    assert mixed.status_code == 422
    [problem] = mixed.json()["detail"]
    assert problem["loc"] == ["query", "ids", 2] and problem["type"] == "other_dataset"
    # Another organisation's evaluations are not found, not told apart.
    outsider = client_for(other_admin)
    assert outsider.get(f"/api/v2/evaluations/compare?ids={baseline.pk},{candidate.pk}").status_code == 404
    malformed = api.get(f"/api/v2/evaluations/compare?ids={baseline.pk},not-an-id")
    assert malformed.status_code == 422 and malformed.json()["detail"][0]["loc"] == ["query", "ids", 1]
    many = api.get("/api/v2/evaluations/compare?ids=" + ",".join([str(baseline.pk)] * 9))
    assert many.status_code == 422 and many.json()["detail"][0]["type"] == "too_long"
    page = logged_in(admin_user).get(f"/evaluations/compare?ids={baseline.pk},{elsewhere.pk}")
    assert page.status_code == 200 and "not on" in page.content.decode()


def test_picking_from_the_list_and_from_an_evaluation(pair, admin_user):
    baseline, candidate, _, _ = pair
    client = logged_in(admin_user)
    listing = client.get("/evaluations").content.decode()
    assert 'href="/evaluations/compare"' in listing
    detail = client.get(f"/evaluations/{baseline.pk}").content.decode()
    assert f'href="/evaluations/compare?ids={baseline.pk}"' in detail
    picker = client.get(f"/evaluations/compare?ids={baseline.pk}").content.decode()
    # Only evaluations of the same dataset are offered, the one it came from already ticked.
    assert f'value="{candidate.pk}"' in picker and f'value="{baseline.pk}" id="pick-{baseline.pk}" checked' in picker


@pytest.mark.parametrize("rows", [3, 30])
def test_queries_do_not_grow_with_rows(
    rows, org, admin_user, provider, judge_integration, make_dataset, make_metric, django_assert_max_num_queries
):
    dataset = make_dataset(rows)
    metric = make_metric()
    first = scored_evaluation(org, admin_user, dataset, metric, [0.5] * rows, name="A")
    second = scored_evaluation(org, admin_user, dataset, metric, [1.0] * rows, name="B")
    api = client_for(admin_user)
    with django_assert_max_num_queries(12):
        assert api.get(f"/api/v2/evaluations/compare?ids={first.pk},{second.pk}").status_code == 200
    with django_assert_max_num_queries(12):
        response = api.get(f"/api/v2/evaluations/compare.csv?ids={first.pk},{second.pk}")
        b"".join(response.streaming_content)
    client = logged_in(admin_user)
    with django_assert_max_num_queries(14):
        assert client.get(f"/evaluations/compare?ids={first.pk},{second.pk}").status_code == 200
