"""The new-evaluation form's typed parameters and saved prompt versions, the judge-model select grouped by
integration, and the metric pages' edit, delete and "judge model gone" state (server-rendered; Chromium in
test_lifecycle_browser)."""

import re

from evaluations.models import Evaluation, Metric
from evaluations.services.metrics import metric_create
from integrations.services import integration_delete
from organizations.models import Role
from prompts.services import prompt_create, prompt_version_add
from runners.models import Run
from tests.evaluations.conftest import logged_in, provider_document
from tests.factories import UserFactory, make_integration


def typed_integration(org, user, endpoint):
    """A model with a choice, a boolean, lines and JSON among its parameters (and no temperature)."""
    document = provider_document(endpoint, models=("model-t",))
    document["model_properties"][0]["supported_parameters"] = [
        "reasoning_effort",
        "logprobs",
        "stop_sequences",
        "response_format",
        "max_tokens",
    ]
    return make_integration(organization=org, user=user, name="typed", document=document)


def test_each_model_gets_typed_fields_for_the_parameters_it_supports_only(
    member_user, provider, openai_server, make_dataset
):
    typed_integration(provider.organization, member_user, openai_server.url)
    make_dataset(2, user=member_user)
    html = logged_in(member_user).get("/evaluations/new").content.decode()
    assert "(JSON)" not in html  # no raw JSON box per model
    names = re.findall(r'name="(parameters:[^"]+)"', html)
    # In the Playground's order of parameters (runners.parameter_specs), per model in integration order.
    assert names == [
        "parameters:model-a:temperature",
        "parameters:model-a:max_tokens",
        "parameters:model-b:temperature",
        "parameters:model-b:max_tokens",
        "parameters:model-t:max_tokens",
        "parameters:model-t:stop_sequences",
        "parameters:model-t:logprobs",
        "parameters:model-t:response_format",
        "parameters:model-t:reasoning_effort",
    ]
    temperature = re.search(r'<input type="number" name="parameters:model-a:temperature"[^>]*>', html).group(0)
    assert 'min="0"' in temperature and 'max="2"' in temperature and 'step="0.05"' in temperature
    assert 'aria-label="Temperature slider (model-a)" data-slider-for="param-1-temperature"' in html
    effort = re.search(r'<select name="parameters:model-t:reasoning_effort".*?</select>', html, re.S).group(0)
    assert '<option value="" selected>default</option>' in effort and '<option value="high">high</option>' in effort
    assert re.search(r'<select name="parameters:model-t:logprobs".*?<option value="true">true</option>', html, re.S)
    assert '<legend>Parameters for model-t <span class="muted small">· 5 supported' in html


def test_typed_values_are_sent_as_their_types(member_user, provider, openai_server, make_dataset):
    typed_integration(provider.organization, member_user, openai_server.url)
    dataset = make_dataset(1, user=member_user)
    response = logged_in(member_user).post(
        "/evaluations/new",
        {
            "dataset": str(dataset.uuid),
            "prompt": "{{question}}",
            "models": ["model-t"],
            "parameters:model-t:reasoning_effort": "high",
            "parameters:model-t:logprobs": "false",
            "parameters:model-t:stop_sequences": "END\n\n  STOP  ",
            "parameters:model-t:response_format": '{"type": "json_object"}',
            "parameters:model-t:max_tokens": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    evaluation = Evaluation.objects.get()
    assert evaluation.model_columns == [
        {
            "alias": "model-t",
            "parameters": {
                "reasoning_effort": "high",
                "logprobs": False,
                "stop_sequences": ["END", "STOP"],
                "response_format": {"type": "json_object"},
            },
        }
    ]


def test_a_value_out_of_range_is_an_error_on_its_field_and_nothing_runs(member_user, provider, make_dataset):
    dataset = make_dataset(1, user=member_user)
    response = logged_in(member_user).post(
        "/evaluations/new",
        {
            "dataset": str(dataset.uuid),
            "prompt": "{{question}}",
            "models": ["model-b"],
            "parameters:model-b:temperature": "3",
            "parameters:model-b:max_tokens": "1.5",
        },
    )
    html = response.content.decode()
    assert response.status_code == 422 and not Run.objects.exists()
    # model-b is the second model: its fields have the ids param-2-...
    assert 'aria-describedby="param-2-max_tokens_helptext param-2-max_tokens_error"' in html
    assert re.search(r'<ul class="field-errors" id="param-2-max_tokens_error"><li>[^<]+integer', html)
    # Two problems at once: the form's (an integer) first; then, once fixed, the service's range on its field.
    response = logged_in(member_user).post(
        "/evaluations/new",
        {
            "dataset": str(dataset.uuid),
            "prompt": "{{question}}",
            "models": ["model-b"],
            "parameters:model-b:temperature": "3",
        },
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert re.search(r'id="param-2-temperature_error"><li>Input should be less than or equal to 2', html)
    assert 'value="3"' in html  # what was typed stays
    assert '<code class="path">models[0].parameters.temperature</code>' in html


def test_a_saved_prompt_version_is_offered_by_prompt_with_its_messages(org, member_user, provider, make_dataset):
    dataset = make_dataset(1, user=member_user)
    messages = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Q: {{question}}"}]
    prompt = prompt_create(organization=org, user=member_user, name="Support bot", messages=messages)
    version2 = prompt_version_add(prompt=prompt, user=member_user, messages=messages, parameters={"temperature": 1})
    client = logged_in(member_user)
    html = client.get("/evaluations/new").content.decode()
    assert f'<optgroup label="Support bot">\n  <option value="{version2.pk}">Support bot · v2</option>' in html
    assert '"Q: {{question}}"' in html and 'id="prompt-version-data"' in html
    response = client.post(
        "/evaluations/new",
        {
            "dataset": str(dataset.uuid),
            "prompt_version": str(version2.pk),
            "models": ["model-a"],
            "parameters:model-a:max_tokens": "20",
        },
    )
    assert response.status_code == 302
    evaluation = Evaluation.objects.get()
    assert evaluation.prompt_version_id == version2.pk and evaluation.messages == messages
    assert evaluation.model_columns[0]["parameters"] == {"temperature": 1, "max_tokens": 20}


def test_the_judge_model_select_is_grouped_by_integration(admin_user, provider, judge_integration, make_metric):
    client = logged_in(admin_user)
    for url in ("/evaluations/metrics", f"/evaluations/metrics/{make_metric().uuid}/edit"):
        html = client.get(url).content.decode()
        select = re.search(r'<select name="judge_model".*?</select>', html, re.S).group(0)
        assert re.search(r'<optgroup label="judges">\s*<option value="Judge"', select)
        assert re.search(r'<optgroup label="provider">\s*<option value="model-a"', select)


def test_the_edit_page_saves_a_new_version(admin_user, provider, judge_integration, make_metric):
    metric = make_metric()
    client = logged_in(admin_user)
    html = client.get(f"/evaluations/metrics/{metric.uuid}/edit").content.decode()
    assert "Saving makes version 2" in html and '<option value="Judge" selected>Judge</option>' in html
    select = re.search(r'<select name="judge_model".*?</select>', html, re.S).group(0)
    assert '<optgroup label="judges">' in select
    response = client.post(
        f"/evaluations/metrics/{metric.uuid}/edit",
        {"name": "Correctness", "judge_model": "model-a", "judges": "2", "prompt": metric.prompt, "parameters": ""},
    )
    assert response.status_code == 302
    current = Metric.objects.get(replaced_at__isnull=True)
    assert (current.version, current.judge_model, current.judges) == (2, "model-a", 2)
    page = client.get("/evaluations/metrics").content.decode()
    assert "Metric “Correctness” saved as version 2." in page and ">v2</span>" in page
    # The old version's edit link leads to the current one.
    old = client.get(f"/evaluations/metrics/{metric.uuid}/edit")
    assert old.status_code == 302 and old["Location"] == f"/evaluations/metrics/{current.uuid}/edit"


def test_a_code_check_is_edited_in_its_own_form(admin_user, org):
    metric = metric_create(
        organization=org,
        user=admin_user,
        name="Exact",
        kind="code",
        code={"check": "exact_match", "reference": {"column": "expected"}, "ignore_case": True},
    )
    client = logged_in(admin_user)
    html = client.get(f"/evaluations/metrics/{metric.uuid}/edit").content.decode()
    assert 'value="expected"' in html and 'name="code-ignore_case" id="id_code-ignore_case" checked' in html
    response = client.post(
        f"/evaluations/metrics/{metric.uuid}/edit",
        {"code-name": "Exact", "code-check": "contains", "code-column": "expected", "code-value": ""},
    )
    assert response.status_code == 302
    current = Metric.objects.get(replaced_at__isnull=True)
    assert current.version == 2
    assert current.code == {
        "check": "contains",
        "reference": {"column": "expected"},
        "ignore_case": False,
        "ignore_whitespace": False,
    }


def test_members_may_not_edit_or_delete_others_metrics(org, provider, judge_integration, make_metric):
    metric = make_metric()
    member = UserFactory(username="mia", organization=org, role=Role.MEMBER)
    client = logged_in(member)
    assert client.get(f"/evaluations/metrics/{metric.uuid}/edit").status_code == 403
    assert client.post(f"/evaluations/metrics/{metric.uuid}/delete").status_code == 403
    assert "Edit Correctness" not in client.get("/evaluations/metrics").content.decode()


def test_the_delete_page_lists_what_uses_the_metric_and_deletes_an_unused_one(
    org, admin_user, provider, judge_integration, make_dataset, make_metric
):
    from evaluations.services.lifecycle import evaluation_create

    used = make_metric()
    evaluation = evaluation_create(
        organization=org,
        user=admin_user,
        name="Baseline run",
        dataset=make_dataset(1).uuid,
        messages=[{"role": "user", "content": "{{question}}"}],
        models=["model-a"],
        metrics=[used.uuid],
    )
    client = logged_in(admin_user)
    html = client.get(f"/evaluations/metrics/{used.uuid}/delete").content.decode()
    assert "is in use" in html and f'href="/evaluations/{evaluation.pk}">Baseline run</a>' in html
    assert "Delete metric</button>" not in html
    refused = client.post(f"/evaluations/metrics/{used.uuid}/delete")
    assert refused.status_code == 409 and "cannot be deleted" in refused.content.decode()
    unused = make_metric(name="Spare")
    assert "Delete metric</button>" in client.get(f"/evaluations/metrics/{unused.uuid}/delete").content.decode()
    assert client.post(f"/evaluations/metrics/{unused.uuid}/delete").status_code == 302
    assert list(Metric.objects.values_list("name", flat=True)) == ["Correctness"]


def test_the_metrics_page_shows_a_gone_judge_model(admin_user, provider, judge_integration, make_metric):
    make_metric()
    client = logged_in(admin_user)
    assert "Judge model gone" not in client.get("/evaluations/metrics").content.decode()
    integration_delete(integration=judge_integration, confirm=True)
    html = client.get("/evaluations/metrics").content.decode()
    assert '<tr class="metric-broken">' in html and "Judge model gone" in html


def test_the_evaluation_form_marks_a_metric_whose_judge_model_is_gone(
    admin_user, provider, judge_integration, make_dataset, make_metric
):
    metric = make_metric()
    dataset = make_dataset(1)
    client = logged_in(admin_user)
    assert "Judge model gone" not in client.get("/evaluations/new").content.decode()
    integration_delete(integration=judge_integration, confirm=True)
    html = client.get("/evaluations/new").content.decode()
    assert f'Judge model gone</span> <a class="small" href="/evaluations/metrics/{metric.uuid}/edit">' in html
    response = client.post(
        "/evaluations/new",
        {"dataset": str(dataset.uuid), "prompt": "{{question}}", "models": ["model-a"], "metrics": [str(metric.uuid)]},
    )
    assert response.status_code == 422 and not Run.objects.exists()
    assert "its judge model &quot;Judge&quot; no longer exists" in response.content.decode()
