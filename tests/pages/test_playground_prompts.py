"""The Playground and saved prompts: a run records the version its messages are, the job keeps the template and the
variables, and the history shows both."""

import pytest

from prompts.services import PromptInUse, prompt_create, prompt_delete
from runners.models import Run
from tests.pages.test_playground_pages import page_data, start

pytestmark = pytest.mark.django_db

TEMPLATE = [{"role": "user", "content": "Say {{word}} to {{who}}"}]


@pytest.fixture
def prompt(org, admin_user, integration):
    return prompt_create(organization=org, user=admin_user, name="greeting", messages=TEMPLATE)


def test_a_run_of_a_saved_version_records_it_and_the_template(admin_client, prompt):
    version = prompt.versions.get()
    response = start(
        admin_client,
        messages=TEMPLATE,
        variables={"word": "hello", "who": "Ada", "unused": "x"},
        columns=[{"model": "GPT 5.2"}, {"model": "GPT 5.4"}],
        prompt_version=str(version.pk),
    )
    assert response.status_code == 202, response.json()
    runs = Run.objects.order_by("created_at")
    assert [run.prompt_version_id for run in runs] == [version.pk, version.pk]
    assert runs[0].messages == [{"role": "user", "content": "Say hello to Ada"}]
    job = runs[0].job
    assert (job.template, job.variables) == (TEMPLATE, {"word": "hello", "who": "Ada"})
    summary = {"id": str(version.pk), "prompt": str(prompt.pk), "name": "greeting", "number": 1}
    assert [run["prompt_version_summary"] for run in response.json()["runs"]] == [summary, summary]
    assert [run["prompt_version"] for run in response.json()["runs"]] == [str(version.pk)] * 2  # as the API reads
    history = page_data(admin_client.get("/playground"))["history"]
    assert [(h["prompt_version_summary"], h["template"], h["variables"], h["job"]) for h in history] == [
        (summary, TEMPLATE, {"word": "hello", "who": "Ada"}, str(job.pk))
    ] * 2
    # The version is now used: the prompt cannot be deleted.
    with pytest.raises(PromptInUse):
        prompt_delete(prompt=prompt)


def test_a_run_without_a_version_records_none(admin_client, integration):
    start(admin_client, messages=TEMPLATE, variables={"word": "hi", "who": "Bo"}, columns=[{"model": "GPT 5.2"}])
    run = Run.objects.get()
    assert run.prompt_version_id is None
    assert run.job.template == TEMPLATE


def test_edited_messages_are_not_recorded_as_the_version(admin_client, prompt):
    response = start(
        admin_client,
        messages=[{"role": "user", "content": "Shout {{word}} to {{who}}"}],
        variables={"word": "hello", "who": "Ada"},
        columns=[{"model": "GPT 5.2"}],
        prompt_version=str(prompt.versions.get().pk),
    )
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "prompt_version"]]
    assert not Run.objects.exists()


def test_another_organisations_version_is_refused(admin_client, other_org, other_admin, integration):
    theirs = prompt_create(organization=other_org, user=other_admin, name="theirs", messages=TEMPLATE)
    response = start(
        admin_client,
        messages=TEMPLATE,
        variables={"word": "a", "who": "b"},
        columns=[{"model": "GPT 5.2"}],
        prompt_version=str(theirs.versions.get().pk),
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "prompt_version"]
    assert not Run.objects.exists()


def test_the_page_offers_the_saved_prompts_and_loads_the_module(admin_client, prompt):
    page = admin_client.get("/playground").content.decode()
    assert f'<option value="{prompt.pk}">greeting</option>' in page
    assert '<label for="prompt-select">Prompt</label>' in page
    assert 'src="/static/js/prompts.js"' in page
