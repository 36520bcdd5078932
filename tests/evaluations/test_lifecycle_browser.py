"""In Chromium: the new-evaluation form's typed parameters and saved prompt version, deleting an integration that
a metric and a saved prompt use, and the metrics page's "judge model gone", edit (a new version) and delete."""

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from evaluations.models import Metric
from prompts.services import prompt_create
from runners.models import Run
from tests.browser.conftest import browser, log_in, page, screenshot  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
MESSAGES = [{"role": "system", "content": "Answer with a number only."}, {"role": "user", "content": "Q: {{question}}"}]


def shots(page, name: str) -> None:  # noqa: F811 (the page fixture passed in)
    """The page at 1440 px and at 400 px, kept in docs/screenshots/ (name.png, name-narrow.png)."""
    DOCS.mkdir(parents=True, exist_ok=True)
    for width, suffix in ((1440, ""), (400, "-narrow")):
        page.set_viewport_size({"width": width, "height": 900})
        shutil.copy(screenshot(page, f"{name}{suffix}"), DOCS / f"{name}{suffix}.png")
    page.set_viewport_size({"width": 1440, "height": 900})


def test_the_evaluation_form_has_typed_parameters_and_a_saved_prompt_version(
    page,  # noqa: F811
    live_server,
    org,
    admin_user,
    provider,
    judge_integration,
    make_dataset,
    make_metric,
):
    dataset = make_dataset(3)
    make_metric()
    prompt_create(organization=org, user=admin_user, name="Arithmetic bot", messages=MESSAGES)
    log_in(page, admin_user.username)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"/evaluations/new?dataset={dataset.uuid}")

    model_a = page.get_by_role("group", name="Parameters for model-a")
    model_b = page.get_by_role("group", name="Parameters for model-b")
    expect(model_a).to_be_hidden()  # shown once the model is chosen
    page.get_by_label("model-a", exact=True).check()
    expect(model_a).to_be_visible()
    expect(model_b).to_be_hidden()
    expect(model_a.get_by_label("Top P")).to_have_count(0)  # model-a does not support it
    temperature = model_a.get_by_label("Temperature", exact=True)
    slider = model_a.get_by_label("Temperature slider (model-a)")
    temperature.fill("0.7")
    expect(slider).to_have_value("0.7")
    slider.fill("1.5")
    expect(temperature).to_have_value("1.5")
    model_a.get_by_label("Max tokens").fill("64")

    page.get_by_label("Saved prompt").select_option(label="Arithmetic bot · v1")
    preview = page.locator("#prompt-version-messages")
    expect(preview).to_contain_text("system: Answer with a number only.")
    expect(preview).to_contain_text("user: Q: {{question}}")
    expect(page.get_by_label("Prompt", exact=True)).to_be_hidden()
    shots(page, "evaluations-new")

    # A value out of range comes back on its field, with what was typed kept; nothing runs.
    temperature.fill("3")
    page.get_by_role("button", name="Run evaluation").click()
    model_a = page.get_by_role("group", name="Parameters for model-a")
    temperature = model_a.get_by_label("Temperature", exact=True)
    expect(temperature).to_have_value("3")
    expect(temperature).to_have_attribute("aria-invalid", "true")
    error_id = temperature.get_attribute("aria-describedby").split()[-1]
    expect(page.locator(f"#{error_id}")).to_contain_text("Input should be less than or equal to 2")
    expect(page.locator("#prompt-version-messages")).to_contain_text("Q: {{question}}")  # the version stays chosen
    assert not Run.objects.exists()


def test_deleting_an_integration_lists_what_breaks_and_metrics_show_it_then_get_a_new_version(
    page,  # noqa: F811
    live_server,
    org,
    admin_user,
    provider,
    judge_integration,
    make_metric,
):
    metric = make_metric(name="Correctness")
    make_metric(name="Spare")
    prompt_create(organization=org, user=admin_user, name="Judge warm-up", messages=MESSAGES, model="Judge")
    log_in(page, admin_user.username)
    page.set_viewport_size({"width": 1440, "height": 900})

    page.goto("/settings/integrations/custom/judges/delete")
    dependents = page.get_by_role("region", name="This breaks 3 things that use these models")
    expect(dependents).to_contain_text("Metric Correctness")
    expect(dependents).to_contain_text("Saved prompt Judge warm-up")
    expect(dependents.get_by_role("link", name="Correctness")).to_have_attribute(
        "href", f"/evaluations/metrics/{metric.uuid}/edit"
    )
    shots(page, "integration-delete-dependents")
    page.get_by_role("button", name="Delete integration and break 3 things").click()
    expect(page.get_by_text("Deleted integration “judges”.")).to_be_visible()

    page.goto("/evaluations/metrics")
    row = page.get_by_role("row", name="Correctness")
    expect(row).to_contain_text("Judge model gone")
    expect(row).to_contain_text("v1")
    shots(page, "evaluations-metrics")

    row.get_by_role("link", name="Edit Correctness").click()
    expect(page.get_by_text("Judge model gone: “Judge” no longer exists.")).to_be_visible()
    judge = page.get_by_label("Judge model")
    expect(judge.locator("optgroup[label='provider'] option")).to_have_count(2)
    judge.select_option("model-a")
    page.get_by_role("button", name="Save as version 2").click()
    expect(page.get_by_text("Metric “Correctness” saved as version 2.")).to_be_visible()
    row = page.get_by_role("row", name="Correctness")
    expect(row).to_contain_text("v2")
    expect(row).not_to_contain_text("Judge model gone")
    assert Metric.objects.filter(name="Correctness").count() == 2

    page.get_by_role("link", name="Delete Spare").click()
    page.get_by_role("button", name="Delete metric").click()
    expect(page.get_by_text("Metric “Spare” deleted.")).to_be_visible()
    expect(page.get_by_role("row", name="Spare")).to_have_count(0)
