"""The evaluation pages: login, organisation scoping, CSRF, forms and what they show."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from evaluations.datasets import MAX_BYTES
from evaluations.models import Dataset, Evaluation, Metric
from evaluations.services.lifecycle import evaluation_advance, evaluation_create
from organizations.models import Role
from runners.models import Run
from tests.evaluations.conftest import csv_text, logged_in
from tests.factories import UserFactory

PAGES = ("/evaluations", "/evaluations/datasets", "/evaluations/new", "/evaluations/metrics")


@pytest.fixture
def evaluation(org, member_user, provider, make_dataset):
    dataset = make_dataset(3, user=member_user)
    return evaluation_create(
        organization=org,
        user=member_user,
        name="Page test",
        dataset=dataset.uuid,
        messages=[{"role": "user", "content": "{{question}}"}],
        models=[{"model": "model-a"}, {"model": "model-b"}],
    )


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_a_login(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", PAGES)
def test_members_see_the_pages_with_labelled_fields(member_user, path):
    response = logged_in(member_user).get(path)
    assert response.status_code == 200
    assert b'<nav class="eval-nav"' in response.content


def test_uploading_a_csv_file_shows_its_rows(member_user):
    client = logged_in(member_user)
    upload = SimpleUploadedFile("sums.csv", csv_text(25).encode(), content_type="text/csv")
    response = client.post("/evaluations/datasets", {"name": "", "format": "auto", "file": upload}, follow=True)
    dataset = Dataset.objects.get()
    assert response.redirect_chain[-1][0] == f"/evaluations/datasets/{dataset.uuid}"
    assert dataset.name == "sums.csv" and dataset.row_count == 25
    html = response.content.decode()
    assert "Rows 1–25 of 25" in html
    assert "What is 1 plus 1?" in html and "What is 25 plus 25?" in html


def test_pasted_data_with_errors_shows_them_by_row_and_keeps_the_text(member_user):
    response = logged_in(member_user).post(
        "/evaluations/datasets", {"name": "Bad", "format": "csv", "content": "question,expected\nA,1\nB\nC,2,3\n"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "row 2 (line 3): has 1 values but the header has 2 columns." in html
    assert "row 3 (line 4): has 3 values but the header has 2 columns." in html
    assert "question,expected\nA,1" in html
    assert not Dataset.objects.exists()


def test_forms_need_a_csrf_token(member_user):
    client = logged_in(member_user, enforce_csrf=True)
    response = client.post("/evaluations/datasets", {"name": "x", "content": "q\nA\n"})
    assert response.status_code == 403
    assert not Dataset.objects.exists()


def test_new_evaluation_form_starts_runs_and_redirects_to_its_page(member_user, provider, make_dataset):
    dataset = make_dataset(4, user=member_user)
    client = logged_in(member_user)
    page = client.get(f"/evaluations/new?dataset={dataset.uuid}").content.decode()
    assert f'<option value="{dataset.uuid}" data-columns="question, expected" selected>' in page
    assert '<label for="id_prompt">Prompt</label>' in page
    response = client.post(
        "/evaluations/new",
        {
            "name": "From the page",
            "dataset": str(dataset.uuid),
            "system": "Be brief.",
            "prompt": "{{question}}",
            "models": ["model-a", "model-b"],
            "parameters:model-a:temperature": "0.5",
            "parameters:model-a:max_tokens": "64",
            "parameters:model-b:temperature": "",
        },
    )
    evaluation = Evaluation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/evaluations/{evaluation.pk}"
    assert evaluation.total_runs == 8
    run = Run.objects.filter(model_alias="model-a").first()
    assert run.parameters == {"temperature": 0.5, "max_tokens": 64}
    assert Run.objects.filter(model_alias="model-b").first().parameters == {}
    assert run.messages[0] == {"role": "system", "content": "Be brief."}


def test_new_evaluation_errors_are_shown_and_nothing_runs(member_user, provider, make_dataset):
    dataset = make_dataset(2, user=member_user)
    response = logged_in(member_user).post(
        "/evaluations/new",
        {
            "dataset": str(dataset.uuid),
            "prompt": "{{question}} {{missing}}",
            "models": ["model-a"],
            "parameters:model-a:temperature": "warm",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "model-a, Temperature: Enter a number." in html
    assert not Run.objects.exists()


def test_metric_form(member_user, judge_integration):
    client = logged_in(member_user)
    assert "{{input}}" in client.get("/evaluations/metrics").content.decode()
    response = client.post(
        "/evaluations/metrics",
        {"name": "Helpful", "judge_model": "Judge", "judges": "3", "prompt": "Rate {{output}}", "parameters": ""},
    )
    assert response.status_code == 302
    metric = Metric.objects.get()
    assert (metric.judge_model, metric.judges, metric.created_by) == ("Judge", 3, member_user)


def test_evaluation_page_progress_results_and_charts(member_user, evaluation):
    Run.objects.filter(model_alias="model-a").update(
        status="succeeded", output="echo <b>bold</b>", latency_ms=40.0, usage={"total_tokens": 7}
    )
    evaluation_advance(evaluation=evaluation)  # counts them, as the run_finished receiver or the safety net does
    client = logged_in(member_user)
    html = client.get(f"/evaluations/{evaluation.pk}").content.decode()
    assert '<progress id="progress-bar" max="6" value="3"' in html
    assert "echo &lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html
    assert html.count('<svg class="chart chart-latency"') == 2
    assert 'aria-sort="ascending"><a href="?sort=-row">' in html
    assert "Cancel evaluation" in html
    progress = client.get(f"/evaluations/{evaluation.pk}/progress").json()
    assert (progress["done"], progress["queued"], progress["total"], progress["status"]) == (3, 3, 6, "running")
    sorted_html = client.get(f"/evaluations/{evaluation.pk}?sort=-latency:0").content.decode()
    assert 'aria-sort="descending"' in sorted_html


def test_an_answer_that_called_a_tool_shows_the_call_in_the_results(member_user, evaluation):
    call = {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1, "b": "<2>"}'}}
    Run.objects.filter(model_alias="model-a").update(status="succeeded", output="", tool_calls=[call])
    html = logged_in(member_user).get(f"/evaluations/{evaluation.pk}").content.decode()

    assert html.count("data-tool-call") == 3
    assert "add({&quot;a&quot;: 1, &quot;b&quot;: &quot;&lt;2&gt;&quot;})" in html


def test_cancel_from_the_page(member_user, evaluation):
    client = logged_in(member_user)
    response = client.post(f"/evaluations/{evaluation.pk}/cancel", follow=True)
    assert "6 queued runs will not run" in response.content.decode()
    assert Run.objects.filter(error_type="cancelled").count() == 6


def test_another_member_cannot_cancel_but_can_read(org, evaluation):
    sam = logged_in(UserFactory(username="sam", organization=org, role=Role.MEMBER))
    assert sam.get(f"/evaluations/{evaluation.pk}").status_code == 200
    assert sam.post(f"/evaluations/{evaluation.pk}/cancel").status_code == 403
    assert not Run.objects.filter(error_type="cancelled").exists()


def test_csv_export_from_the_page_escapes_formulas(member_user, evaluation):
    Run.objects.filter(model_alias="model-b").update(status="succeeded", output="-2+3")
    response = logged_in(member_user).get(f"/evaluations/{evaluation.pk}/results.csv")
    text = b"".join(response.streaming_content).decode()
    assert ",model-b,succeeded,'-2+3," in text


@pytest.mark.parametrize(
    ("output", "written"),
    [
        ("  =HYPERLINK(1)", "'  =HYPERLINK(1)"),  # spreadsheets skip leading spaces before a formula
        ("\u3000+1", "'\u3000+1"),  # an ideographic space
        ("\uff1dSUM(A1)", "'\uff1dSUM(A1)"),  # full-width equals sign
        ("\uff0b1", "'\uff0b1"),
        ("\uff0d1", "'\uff0d1"),
        ("\uff20SUM(A1)", "'\uff20SUM(A1)"),
        ("a = b", "a = b"),
    ],
)
def test_csv_export_escapes_formulas_after_spaces_and_in_full_width_and_opens_as_utf8(
    member_user, evaluation, output, written
):
    Run.objects.filter(model_alias="model-b").update(status="succeeded", output=output)
    response = logged_in(member_user).get(f"/evaluations/{evaluation.pk}/results.csv")
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf"), "a UTF-8 byte order mark, so that Excel does not guess a code page"
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][0] == "row"
    assert written in [row[rows[0].index("output")] for row in rows[1:]]


def test_another_organisation_gets_404(other_admin, evaluation):
    client = logged_in(other_admin)
    for path in (
        f"/evaluations/{evaluation.pk}",
        f"/evaluations/{evaluation.pk}/progress",
        f"/evaluations/{evaluation.pk}/results.csv",
        f"/evaluations/datasets/{evaluation.dataset.uuid}",
    ):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/evaluations/{evaluation.pk}/cancel").status_code == 404
    assert client.post(f"/evaluations/datasets/{evaluation.dataset.uuid}/delete").status_code == 404
    listing = client.get("/evaluations").content.decode()
    assert "Page test" not in listing
    assert "Sums" not in client.get("/evaluations/datasets").content.decode()
    assert not Run.objects.filter(error_type="cancelled").exists()


def test_dataset_delete_from_the_page(member_user, make_dataset):
    dataset = make_dataset(2, user=member_user)
    response = logged_in(member_user).post(f"/evaluations/datasets/{dataset.uuid}/delete")
    assert response.status_code == 302
    assert not Dataset.objects.exists()


def test_problems_are_shown_on_the_field_they_are_about(member_user, provider, judge_integration, make_dataset):
    dataset = make_dataset(2, user=member_user)
    client = logged_in(member_user)
    response = client.post(
        "/evaluations/new",
        {
            "dataset": str(dataset.uuid),
            "prompt": "{{missing}}",
            "models": ["model-a"],
            "parameters:model-b:temperature": "x",  # a model not chosen: its fields are not read
        },
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert 'aria-invalid="true" aria-describedby="id_prompt_helptext id_prompt_error" id="id_prompt"' in html
    assert '<ul class="field-errors" id="id_prompt_error"><li>The prompt uses {{missing}}' in html
    response = client.post(
        "/evaluations/metrics", {"name": "Tone", "judge_model": "Judge", "judges": "11", "prompt": "{{output}}"}
    )
    html = response.content.decode()
    assert response.status_code == 422 and not Metric.objects.exists()
    assert '<ul class="field-errors" id="id_judges_error"><li>A whole number from 1 to 10.</li></ul>' in html
    assert '<option value="Judge" selected>Judge</option>' in html  # what was chosen stays chosen


def test_problems_in_an_uploaded_file_are_shown_on_the_file_field(member_user):
    upload = SimpleUploadedFile("bad.csv", b"question,expected\n1,2,3\n", content_type="text/csv")
    response = logged_in(member_user).post("/evaluations/datasets", {"format": "auto", "file": upload})
    html = response.content.decode()
    assert response.status_code == 422 and not Dataset.objects.exists()
    expected = "row 1 (line 2): has 3 values but the header has 2 columns."
    assert f'<ul class="field-errors" id="id_file_error"><li>{expected}</li>' in html
    assert 'id="id_content_error"' not in html


def test_a_dataset_of_the_documented_size_can_be_pasted_and_a_larger_one_is_a_field_error(member_user):
    # The form posts pasted text as a field, which Django bounds by DATA_UPLOAD_MAX_MEMORY_SIZE: that bound must
    # leave room for the documented 5 MB, and beyond it the answer is an error on the field, not a 400 page.
    row = "What is the capital of a country whose name is long enough to fill this row?;" + "x" * 800
    text = "question;expected\n" + "\n".join(f"{row}{n}" for n in range(4_900)) + "\n"
    assert 4 * 2**20 < len(text.encode()) <= MAX_BYTES
    response = logged_in(member_user).post("/evaluations/datasets", {"name": "Big", "format": "auto", "content": text})
    assert response.status_code == 302
    dataset = Dataset.objects.get(name="Big")
    assert (dataset.row_count, dataset.columns) == (4_900, ["question", "expected"])

    too_big = text + "y" * (MAX_BYTES - len(text.encode()) + 1)
    response = logged_in(member_user).post("/evaluations/datasets", {"name": "Bigger", "content": too_big})
    assert response.status_code == 422
    assert 'id="id_content_error"' in response.content.decode()
    assert not Dataset.objects.filter(name="Bigger").exists()
