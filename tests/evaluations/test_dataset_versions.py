"""Datasets as versions: rows a page at a time, downloads as stored, adding rows (given, or from a Playground run)
as the next version while evaluations keep the version they ran on; the services, the API and the pages."""

import csv
import io
import json
import threading

import pytest
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from core.problems import Invalid
from evaluations.dataset_selectors import dataset_latest_list, dataset_rows_page, dataset_versions
from evaluations.datasets import MAX_ROWS
from evaluations.models import Dataset, DatasetRow, Evaluation
from evaluations.services.datasets import NotLatestVersion, dataset_add_rows, dataset_create, dataset_row_from_run
from runners.models import Job, Run
from tests.api.conftest import client_for
from tests.evaluations.conftest import csv_text, logged_in

JSONL = '{"q": {"text": "Capital of France?", "tags": ["geo"]}, "n": 3, "expected": "Paris"}\n'


@pytest.fixture
def member_api(member_user):
    return client_for(member_user)


@pytest.fixture
def other_api(other_admin):
    return client_for(other_admin)


def loc_messages(caught) -> dict[tuple, str]:
    return {error.loc: error.message for error in caught.value.errors}


def rows_of(dataset: Dataset) -> list[dict]:
    return list(dataset.rows.order_by("index").values_list("values", flat=True))


def playground_run(org, user, *, variables, output="Paris", status="succeeded") -> Run:
    """A finished Playground run as playground_run and a worker leave it: the job keeps the variables."""
    job = Job.objects.create(
        organization=org,
        user=user,
        kind=Job.Kind.PLAYGROUND,
        template=[{"role": "user", "content": "{{question}}"}],
        variables=variables,
    )
    return Run.objects.create(
        organization=org,
        user=user,
        job=job,
        integration_name="provider",
        model_alias="model-a",
        model_name="model-a",
        messages=[{"role": "user", "content": "filled in"}],
        status=status,
        output=output if status == "succeeded" else None,
    )


# ---- Services ------------------------------------------------------------------------------------------------------


def test_adding_rows_makes_the_next_version_and_leaves_the_first_as_it_was(make_dataset, member_user):
    first = make_dataset(3)
    second = dataset_add_rows(dataset=first, user=member_user, rows=[{"question": "What is 9 plus 9?", "expected": 18}])

    assert (second.version, second.lineage, second.row_count, second.name) == (2, first.uuid, 4, "Sums")
    assert second.uuid != first.uuid and second.created_by == member_user
    assert rows_of(second) == [*rows_of(first), {"question": "What is 9 plus 9?", "expected": "18"}]
    assert list(second.rows.values_list("index", flat=True).order_by("index")) == [1, 2, 3, 4]
    first.refresh_from_db()
    assert (first.version, first.row_count, len(rows_of(first))) == (1, 3, 3)
    assert list(dataset_latest_list(organization=first.organization)) == [second]
    assert [d.version for d in dataset_versions(dataset=first)] == [2, 1]


def test_a_dataset_an_evaluation_used_stays_the_version_the_evaluation_ran_on(member_api, provider):
    created = member_api.post(
        "/api/v2/datasets", {"name": "Sums", "format": "csv", "content": csv_text(2)}, format="json"
    ).json()
    evaluation = member_api.post(
        "/api/v2/evaluations",
        {"dataset": created["id"], "messages": [{"role": "user", "content": "{{question}}"}], "models": ["model-a"]},
        format="json",
    )
    assert evaluation.status_code in (201, 202), evaluation.content
    added = member_api.post(
        f"/api/v2/datasets/{created['id']}/rows", {"rows": [{"question": "Q3", "expected": "3"}]}, format="json"
    )
    assert added.status_code == 201, added.content
    stored = Evaluation.objects.get()
    assert str(stored.dataset.uuid) == created["id"] and stored.dataset.row_count == 2
    assert added.json()["version"] == 2 and added.json()["row_count"] == 3


def test_rows_are_added_to_the_latest_version_only(make_dataset, member_user):
    first = make_dataset(2)
    dataset_add_rows(dataset=first, user=member_user, rows=[{"question": "Q", "expected": "A"}])
    with pytest.raises(NotLatestVersion) as caught:
        dataset_add_rows(dataset=first, user=member_user, rows=[{"question": "R", "expected": "B"}])
    assert "Version 1 of “Sums” is not its latest: version 2" in str(caught.value)
    assert caught.value.latest.version == 2
    assert Dataset.objects.count() == 2


def test_new_rows_are_checked_as_an_upload_is_with_a_path_per_row_and_column(make_dataset, member_user):
    dataset = make_dataset(2)
    with pytest.raises(Invalid) as caught:
        dataset_add_rows(
            dataset=dataset,
            user=member_user,
            rows=[
                {"question": "ok", "expected": "fine"},
                {"question": "no expected"},
                {"question": "Q", "expected": "A", "notes": "x"},
                "not an object",
                {"question": {"nested": True}, "expected": "A"},
                {"question": "nul \x00 here", "expected": "A"},
                {"question": "x" * 50_001, "expected": "A"},
            ],
        )
    assert loc_messages(caught) == {
        ("rows", 1, "expected"): "rows[1]: column 'expected' is missing.",
        ("rows", 2, "notes"): "rows[2]: 'notes' is not a column of this dataset (its columns: 'question', 'expected').",
        ("rows", 3): "rows[3]: must be an object of column names to values.",
        ("rows", 4, "question"): (
            "rows[4]: column 'question' must be text: this dataset is a CSV, whose cells are text."
        ),
        ("rows", 5, "question"): "rows[5]: column 'question' contains a NUL character or an unpaired surrogate.",
        ("rows", 6, "question"): "rows[6]: column 'question' is longer than 50000 characters.",
    }
    assert Dataset.objects.count() == 1 and DatasetRow.objects.count() == 2  # nothing half-saved

    with pytest.raises(Invalid) as caught:
        dataset_add_rows(dataset=dataset, user=member_user, rows=[])
    assert loc_messages(caught) == {("rows",): "Give at least one row (an object of column names to values)."}


def test_a_json_lines_dataset_keeps_nested_values_and_stores_numbers_as_text(org, member_user):
    dataset = dataset_create(organization=org, user=member_user, name="Geo", text=JSONL, format="jsonl")
    new = {"q": {"text": "Capital of Peru?", "tags": ["geo", "south america"]}, "n": 4.5, "expected": None}
    version = dataset_add_rows(dataset=dataset, user=member_user, rows=[new])
    assert rows_of(version)[-1] == {"q": new["q"], "n": "4.5", "expected": None}


def test_a_csv_dataset_stores_null_as_an_empty_cell_and_booleans_as_text(make_dataset, member_user):
    version = dataset_add_rows(dataset=make_dataset(1), user=member_user, rows=[{"question": True, "expected": None}])
    assert rows_of(version)[-1] == {"question": "true", "expected": ""}


def test_a_dataset_stays_within_the_row_limit(make_dataset, member_user):
    dataset = make_dataset(MAX_ROWS - 1)
    rows = [{"question": "Q", "expected": "A"}] * 2
    with pytest.raises(Invalid) as caught:
        dataset_add_rows(dataset=dataset, user=member_user, rows=rows)
    assert caught.value.errors[0].loc == ("rows",) and caught.value.errors[0].type == "too_many_rows"
    assert dataset_add_rows(dataset=dataset, user=member_user, rows=rows[:1]).row_count == MAX_ROWS


def test_a_playground_runs_variables_and_answer_make_a_row(org, make_dataset, member_user):
    dataset = make_dataset(1)
    run = playground_run(org, member_user, variables={"question": "Capital of France?"}, output="Paris")
    row = dataset_row_from_run(dataset=dataset, organization=org, run_id=str(run.pk), output_column="expected")
    assert row == {"question": "Capital of France?", "expected": "Paris"}
    version = dataset_add_rows(dataset=dataset, user=member_user, rows=[row])
    assert rows_of(version)[-1] == row


def test_a_run_that_does_not_fit_the_dataset_says_where(org, other_org, make_dataset, member_user, other_admin):
    dataset = make_dataset(1)

    def problems(run_id, output_column="expected"):
        with pytest.raises(Invalid) as caught:
            dataset_row_from_run(dataset=dataset, organization=org, run_id=run_id, output_column=output_column)
        return loc_messages(caught)

    others = playground_run(other_org, other_admin, variables={"question": "Q"})
    assert problems(str(others.pk)) == {("from_run",): "No such run here."}
    assert problems("not-a-uuid") == {("from_run",): "No such run here."}
    failed = playground_run(org, member_user, variables={"question": "Q"}, status="failed")
    assert problems(str(failed.pk)) == {("from_run",): "The run has no answer to add (it is failed)."}

    run = playground_run(org, member_user, variables={"topic": "maths"})
    assert problems(str(run.pk)) == {
        ("from_run", "variables", "topic"): "The run's variable 'topic' is not a column of this dataset "
        "(its columns: 'question', 'expected').",
        ("from_run", "variables", "question"): "The dataset's column 'question' is not a variable of the run, so the "
        "row would have no value for it.",
    }
    fitting = playground_run(org, member_user, variables={"question": "Q"})
    assert problems(str(fitting.pk), output_column="answer") == {
        ("output_column",): "'answer' is not a column of this dataset (its columns: 'question', 'expected')."
    }
    assert problems(str(fitting.pk), output_column="question") == {
        ("output_column",): "'question' is also a variable of the run; pick the column for its answer.",
        ("from_run", "variables", "expected"): "The dataset's column 'expected' is not a variable of the run, so the "
        "row would have no value for it.",
    }


def test_a_page_of_rows_is_one_query_however_deep(make_dataset, django_assert_num_queries):
    dataset = make_dataset(120)
    with django_assert_num_queries(1):
        last = dataset_rows_page(dataset=dataset, page=3, size=50)
    assert [row.index for row in last.rows] == list(range(101, 121))
    assert (last.pages, last.has_next, last.has_previous) == (3, False, True)
    with CaptureQueriesContext(connection) as queries:
        dataset_rows_page(dataset=dataset, page=1, size=50)
    assert "LIMIT" not in queries[0]["sql"] and "OFFSET" not in queries[0]["sql"]


# ---- API -----------------------------------------------------------------------------------------------------------


def test_api_rows_a_page_at_a_time(member_api, make_dataset):
    dataset = make_dataset(120)
    answer = member_api.get(f"/api/v2/datasets/{dataset.uuid}/rows?page=3&page_size=50")
    assert answer.status_code == 200
    body = answer.json()
    assert {key: body[key] for key in ("count", "page", "page_size", "pages")} == {
        "count": 120,
        "page": 3,
        "page_size": 50,
        "pages": 3,
    }
    assert [row["index"] for row in body["results"]] == list(range(101, 121))
    assert body["results"][0]["values"] == {"question": "What is 101 plus 101?", "expected": "202"}
    default = member_api.get(f"/api/v2/datasets/{dataset.uuid}/rows").json()
    assert (default["page"], default["page_size"], len(default["results"])) == (1, 50, 50)


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("page=4&page_size=50", ["query", "page"]),
        ("page=0", ["query", "page"]),
        ("page=x", ["query", "page"]),
        ("page_size=0", ["query", "page_size"]),
        ("page_size=501", ["query", "page_size"]),
    ],
)
def test_api_rows_bad_paging_is_a_422_with_its_path(member_api, make_dataset, query, loc):
    dataset = make_dataset(120)
    answer = member_api.get(f"/api/v2/datasets/{dataset.uuid}/rows?{query}")
    assert answer.status_code == 422
    assert [problem["loc"] for problem in answer.json()["detail"]] == [loc]


def test_api_nested_values_are_kept_in_rows(member_api, org, member_user):
    dataset = dataset_create(organization=org, user=member_user, name="Geo", text=JSONL, format="jsonl")
    rows = member_api.get(f"/api/v2/datasets/{dataset.uuid}/rows").json()["results"]
    assert rows == [
        {
            "index": 1,
            "values": {"q": {"text": "Capital of France?", "tags": ["geo"]}, "n": "3", "expected": "Paris"},
            "source_run": None,
        }
    ]


def test_api_add_rows_lists_the_latest_version_and_the_versions(member_api, make_dataset):
    first = make_dataset(2)
    answer = member_api.post(
        f"/api/v2/datasets/{first.uuid}/rows", {"rows": [{"question": "Q", "expected": "A"}]}, format="json"
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert answer["Location"] == f"/api/v2/datasets/{body['id']}"
    assert (body["version"], body["lineage"], body["row_count"]) == (2, str(first.uuid), 3)
    assert [(v["version"], v["row_count"]) for v in body["versions"]] == [(2, 3), (1, 2)]
    listed = member_api.get("/api/v2/datasets").json()
    assert [(d["id"], d["version"]) for d in listed] == [(body["id"], 2)]
    old = member_api.get(f"/api/v2/datasets/{first.uuid}").json()
    assert old["version"] == 1 and [v["id"] for v in old["versions"]] == [body["id"], str(first.uuid)]

    stale = member_api.post(
        f"/api/v2/datasets/{first.uuid}/rows", {"rows": [{"question": "Q", "expected": "A"}]}, format="json"
    )
    assert stale.status_code == 409
    assert stale.json()["latest"] == body["id"] and "not its latest" in stale.json()["detail"]


@pytest.mark.parametrize(
    ("body", "locs"),
    [
        ({"rows": [{"question": "Q"}]}, [["body", "rows", 0, "expected"]]),
        ({"rows": [{"question": "Q", "expected": "A", "extra": 1}]}, [["body", "rows", 0, "extra"]]),
        ({"rows": [{"question": ["a"], "expected": "A"}]}, [["body", "rows", 0, "question"]]),
        ({"rows": "question,expected"}, [["body", "rows"]]),
        ({}, [["body"]]),
        ({"rows": [], "from_run": "00000000-0000-0000-0000-000000000000"}, [["body"]]),
        ({"from_run": "not-a-uuid"}, [["body", "from_run"]]),
        ({"from_run": "00000000-0000-0000-0000-000000000000"}, [["body", "from_run"]]),
    ],
)
def test_api_add_rows_problems_are_422_with_paths_and_nothing_is_saved(member_api, make_dataset, body, locs):
    dataset = make_dataset(2)
    answer = member_api.post(f"/api/v2/datasets/{dataset.uuid}/rows", body, format="json")
    assert answer.status_code == 422, answer.content
    assert [problem["loc"] for problem in answer.json()["detail"]] == locs
    assert Dataset.objects.count() == 1


def test_api_add_a_row_from_a_playground_run(member_api, org, member_user, make_dataset):
    dataset = make_dataset(1)
    run = playground_run(org, member_user, variables={"question": "Capital of France?"}, output="Paris")
    answer = member_api.post(f"/api/v2/datasets/{dataset.uuid}/rows", {"from_run": str(run.pk)}, format="json")
    assert answer.status_code == 201, answer.content
    version = Dataset.objects.get(uuid=answer.json()["id"])
    assert rows_of(version)[-1] == {"question": "Capital of France?", "expected": "Paris"}
    # The row keeps the run it came from, through later versions too.
    later = dataset_add_rows(dataset=version, user=member_user, rows=[{"question": "Q", "expected": "A"}])
    rows = member_api.get(f"/api/v2/datasets/{later.uuid}/rows").json()["results"]
    assert [row["source_run"] for row in rows] == [None, str(run.pk), None]
    html = logged_in(member_user).get(f"/evaluations/datasets/{later.uuid}").content.decode()
    assert html.count("/playground?run=") == 1 and f'href="/playground?run={run.pk}"' in html

    other = playground_run(org, member_user, variables={"topic": "x"})
    refused = member_api.post(
        f"/api/v2/datasets/{version.uuid}/rows", {"from_run": str(other.pk), "output_column": "expected"}, format="json"
    )
    assert refused.status_code == 422
    assert {tuple(problem["loc"]) for problem in refused.json()["detail"]} == {
        ("body", "from_run", "variables", "topic"),
        ("body", "from_run", "variables", "question"),
    }


def test_api_an_answer_too_long_for_a_cell_is_refused_at_from_run(member_api, org, member_user, make_dataset):
    dataset = make_dataset(1)
    run = playground_run(org, member_user, variables={"question": "Write a lot"}, output="word " * 10_001)
    refused = member_api.post(f"/api/v2/datasets/{dataset.uuid}/rows", {"from_run": str(run.pk)}, format="json")
    assert refused.status_code == 422
    assert refused.json()["detail"] == [
        {
            "loc": ["body", "from_run", "expected"],
            "msg": "column 'expected' is longer than 50000 characters.",
            "type": "too_long",
        }
    ]
    assert Dataset.objects.count() == 1


def test_api_another_organisation_gets_404_and_its_runs_are_not_found(
    member_api, other_api, other_org, other_admin, make_dataset
):
    dataset = make_dataset(2)
    base = f"/api/v2/datasets/{dataset.uuid}"
    assert other_api.get(f"{base}/rows").status_code == 404
    assert other_api.get(f"{base}/download").status_code == 404
    row = {"rows": [{"question": "Q", "expected": "A"}]}
    assert other_api.post(f"{base}/rows", row, format="json").status_code == 404
    # Their run is not ours to copy into our dataset.
    theirs = playground_run(other_org, other_admin, variables={"question": "secret"})
    refused = member_api.post(f"{base}/rows", {"from_run": str(theirs.pk)}, format="json")
    assert refused.status_code == 422 and refused.json()["detail"][0]["msg"] == "No such run here."
    assert Dataset.objects.count() == 1
    from rest_framework.test import APIClient

    assert APIClient().get(f"{base}/rows").status_code == 401


def test_api_download_csv_as_stored_with_a_byte_order_mark_and_escaped_formulas(member_api, org, member_user):
    text = 'question,expected\n"=HYPERLINK(""http://x"")",ok\n  +1,"multi\nline"\n'
    dataset = dataset_create(organization=org, user=member_user, name="Risky sheet", text=text, format="csv")
    answer = member_api.get(f"/api/v2/datasets/{dataset.uuid}/download", HTTP_ACCEPT="text/csv")
    assert answer.status_code == 200 and answer.streaming
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert answer["Content-Disposition"] == 'attachment; filename="risky-sheet-v1.csv"'
    content = b"".join(answer.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(content.removeprefix("\ufeff")))) == [
        ["question", "expected"],
        ['\'=HYPERLINK("http://x")', "ok"],
        ["'  +1", "multi\nline"],
    ]


def test_api_download_json_lines_keeps_nested_values(member_api, org, member_user):
    dataset = dataset_create(organization=org, user=member_user, name="Geo", text=JSONL, format="jsonl")
    added = {"q": {"text": "Peru?"}, "n": 1, "expected": "=1"}
    version = dataset_add_rows(dataset=dataset, user=member_user, rows=[added])
    answer = member_api.get(f"/api/v2/datasets/{version.uuid}/download")
    assert answer["Content-Type"] == "application/jsonl; charset=utf-8"
    assert answer["Content-Disposition"] == 'attachment; filename="geo-v2.jsonl"'
    lines = b"".join(answer.streaming_content).decode("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"q": {"text": "Capital of France?", "tags": ["geo"]}, "n": "3", "expected": "Paris"},
        {"q": {"text": "Peru?"}, "n": "1", "expected": "=1"},
    ]


# ---- Pages ---------------------------------------------------------------------------------------------------------


def test_the_dataset_page_pages_its_rows_and_lists_its_versions(member_user, make_dataset):
    first = make_dataset(120)
    second = dataset_add_rows(dataset=first, user=member_user, rows=[{"question": "Q new", "expected": '{"a": 1}'}])
    client = logged_in(member_user)

    html = client.get(f"/evaluations/datasets/{second.uuid}?page=3").content.decode()
    assert "Rows 101–121 of 121" in html and "Page 3 of 3" in html
    assert "What is 101 plus 101?" in html and "Q new" in html and "What is 100 plus 100?" not in html
    assert f'href="/evaluations/datasets/{first.uuid}">v1</a>' in html and "v2 (this one)" in html
    assert f'href="/evaluations/datasets/{second.uuid}/download"' in html
    assert 'id="newer-version"' not in html

    old = client.get(f"/evaluations/datasets/{first.uuid}?page=99").content.decode()
    assert "Rows 101–120 of 120" in old  # a page past the end shows the last
    assert 'id="newer-version"' in old and f'href="/evaluations/datasets/{second.uuid}">version 2</a>' in old

    listed = client.get("/evaluations/datasets").content.decode()
    assert listed.count("/evaluations/datasets/" + str(second.uuid)) == 1 and str(first.uuid) not in listed
    assert "<td>v2</td>" in listed


def test_the_dataset_page_renders_nested_values_as_json(member_user, org):
    dataset = dataset_create(organization=org, user=member_user, name="Geo", text=JSONL, format="jsonl")
    html = logged_in(member_user).get(f"/evaluations/datasets/{dataset.uuid}").content.decode()
    # Compact JSON; PostgreSQL's jsonb keeps an object's keys in its own order, so each key is looked for alone.
    assert "<td>{&quot;" in html and "&quot;tags&quot;:[&quot;geo&quot;]" in html
    assert "&quot;text&quot;:&quot;Capital of France?&quot;" in html


def test_the_download_page_streams_the_csv_and_is_404_for_another_organisation(member_user, other_admin, make_dataset):
    dataset = make_dataset(2)
    answer = logged_in(member_user).get(f"/evaluations/datasets/{dataset.uuid}/download")
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content).decode() == (
        "\ufeffquestion,expected\r\nWhat is 1 plus 1?,2\r\nWhat is 2 plus 2?,4\r\n"
    )
    assert logged_in(other_admin).get(f"/evaluations/datasets/{dataset.uuid}/download").status_code == 404
    assert logged_in(other_admin).get(f"/evaluations/datasets/{dataset.uuid}").status_code == 404


def test_the_playground_offers_the_latest_version_of_each_dataset(member_user, provider, make_dataset):
    first = make_dataset(1)
    second = dataset_add_rows(dataset=first, user=member_user, rows=[{"question": "Q", "expected": "A"}])
    html = logged_in(member_user).get("/playground").content.decode()
    assert (
        f'<option value="{second.uuid}" data-lineage="{first.uuid}" data-columns="question,expected">Sums v2</option>'
        in html
    )
    assert f'value="{first.uuid}"' not in html


# ---- Concurrency (PostgreSQL: SQLite has no row locks) -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_additions_at_once_to_one_version_make_one_version_and_a_conflict(org, member_user):
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SELECT ... FOR UPDATE) need PostgreSQL; run with DATABASE_URL")
    dataset = dataset_create(organization=org, user=member_user, name="Sums", text=csv_text(50), format="csv")
    barrier = threading.Barrier(2)
    outcomes: list = []

    def add(value: str) -> None:
        try:
            barrier.wait()
            version = dataset_add_rows(dataset=dataset, user=member_user, rows=[{"question": value, "expected": "x"}])
            outcomes.append(version.version)
        except NotLatestVersion as exc:
            outcomes.append(f"conflict with v{exc.latest.version}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=add, args=(value,)) for value in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, outcomes)) == ["2", "conflict with v2"]
    assert Dataset.objects.filter(lineage=dataset.uuid).count() == 2
    assert DatasetRow.objects.filter(dataset__version=2).count() == 51


# ---- The migration -------------------------------------------------------------------------------------------------


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_existing_datasets_become_the_first_version_of_their_own_lineage(org, member_user):
    before = [("evaluations", "0006_evaluation_idempotency_key")]
    apps = _migrate(before).loader.project_state(before).apps
    try:
        old = apps.get_model("evaluations", "Dataset")
        for index in range(2):
            old.objects.create(organization_id=org.pk, name=f"old-{index}", columns=["q"], source_format="csv")
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
        datasets = list(Dataset.objects.order_by("pk"))
        assert [(d.lineage, d.version) for d in datasets] == [(d.uuid, 1) for d in datasets]
        assert set(dataset_latest_list(organization=org)) == set(datasets)
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
