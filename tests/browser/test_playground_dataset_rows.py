"""In Chromium: a Playground run (real Celery worker, test provider) becomes a row of a dataset: its variables and its
answer in the column picked for it, as the dataset's next version; a run that does not fit says where."""

import pytest
from playwright.sync_api import expect

from evaluations.models import Dataset
from evaluations.services.datasets import dataset_create
from organizations.models import Role
from tests.browser.conftest import log_in, screenshot
from tests.factories import UserFactory, api_key_document, make_integration

pytestmark = [pytest.mark.browser, pytest.mark.worker]


@pytest.fixture
def member(org):
    return UserFactory(username="max", organization=org, role=Role.MEMBER)


def test_add_a_playground_run_to_a_dataset_as_its_next_version(
    page, live_server, celery_worker, openai_server, org, member
):
    make_integration(
        organization=org, user=member, name="portkey", document=api_key_document(endpoint=openai_server.url)
    )
    sums = dataset_create(
        organization=org,
        user=member,
        name="Sums",
        text="question,reference\nWhat is 1 plus 1?,echo: What is 1 plus 1?\n",
        format="csv",
    )
    dataset_create(organization=org, user=member, name="Topics", text="topic,expected\nmaths,x\n", format="csv")
    log_in(page, "max")

    page.goto("/playground")
    page.get_by_label("User message").fill("{{question}}")
    page.get_by_label("{{question}}").fill("What is 2 plus 2?")
    column = page.locator("[data-column]").first
    panel = column.locator("[data-add-row]")
    expect(panel).to_be_hidden()  # nothing to add before the run has an answer
    page.get_by_role("button", name="Run", exact=True).click()
    expect(column.locator("[data-output]")).to_have_text("echo: What is 2 plus 2?", timeout=15_000)

    panel.get_by_text("Add to a dataset").click()
    dataset = panel.get_by_label("Dataset")
    expect(dataset.locator("option")).to_have_text(["Topics v1", "Sums v1"])
    dataset.select_option(label="Sums v1")
    answer_column = panel.get_by_label("Column for the answer")
    expect(answer_column.locator("option")).to_have_text(["question", "reference"])
    answer_column.select_option("question")
    panel.get_by_role("button", name="Add as a row").click()
    # Its answer in "question" leaves the dataset's "reference" without a value: said with its path, nothing saved.
    expect(panel.get_by_role("alert")).to_contain_text(
        "output_column: 'question' is also a variable of the run; pick the column for its answer."
    )
    expect(panel.get_by_role("alert")).to_contain_text("from_run.variables.reference:")
    assert Dataset.objects.count() == 2

    answer_column.select_option("reference")
    panel.get_by_role("button", name="Add as a row").click()
    status = panel.get_by_role("status")
    expect(status).to_have_text("Added as row 2 of Sums v2.")
    expect(panel.locator("[data-add-row-errors]")).to_be_empty()
    screenshot(page, "playground-add-to-dataset", full_page=False)
    second = Dataset.objects.get(lineage=sums.uuid, version=2)
    assert list(second.rows.order_by("index").values_list("values", flat=True)) == [
        {"question": "What is 1 plus 1?", "reference": "echo: What is 1 plus 1?"},
        {"question": "What is 2 plus 2?", "reference": "echo: What is 2 plus 2?"},
    ]
    sums.refresh_from_db()
    assert sums.row_count == 1 and sums.rows.count() == 1

    # A dataset whose columns the run's variables do not match: the problems name the columns.
    dataset.select_option(label="Topics v1")
    expect(answer_column.locator("option")).to_have_text(["expected", "topic"])
    panel.get_by_role("button", name="Add as a row").click()
    expect(panel.get_by_role("alert")).to_contain_text(
        "from_run.variables.question: The run's variable 'question' is not a column of this dataset"
    )
    expect(panel.get_by_role("alert")).to_contain_text("from_run.variables.topic:")
    expect(status).to_be_empty()

    # The choice of Sums now adds to its new version: a second addition makes version 3, not a fork of version 1.
    dataset.select_option(label="Sums v2")
    answer_column.select_option("reference")
    panel.get_by_role("button", name="Add as a row").click()
    expect(status).to_have_text("Added as row 3 of Sums v3.")
    assert Dataset.objects.get(lineage=sums.uuid, version=3).row_count == 3

    status.get_by_role("link", name="Sums v3").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sums v3")
    expect(page.get_by_role("cell", name="echo: What is 2 plus 2?")).to_have_count(2)
