import json

import pytest
from django.test import Client

from evaluations.services.metrics import metric_create
from integrations.editor import annotate_errors, path_lines
from playground.services import message_variables, messages_render, parameter_specs
from runners.models import Job, Run, RunStatus
from tests.factories import api_key_document, make_integration

pytestmark = pytest.mark.django_db

RUNS = "/playground/runs"


def start(client, **body):
    body.setdefault("messages", [{"role": "user", "content": "Hello"}])
    return client.post(RUNS, json.dumps(body), content_type="application/json")


def page_data(response) -> dict:
    text = response.content.decode()
    return json.loads(text.split('<script id="playground-data" type="application/json">')[1].split("</script>")[0])


def test_the_model_select_is_labelled_grouped_by_integration_with_the_default_selected(admin_client, org, integration):
    make_integration(
        organization=org,
        name="together",
        document=api_key_document(
            model_properties=[
                {"name": "llama-a", "alias": "Llama A"},
                {"name": "llama-b", "alias": "Llama B"},
            ],
            default_model="llama-b",
        ),
    )
    response = admin_client.get("/playground")
    page = response.content.decode()
    assert "<label data-model-label>Model</label>" in page  # for= is set per column by the script
    assert '<optgroup label="custom">' in page and '<optgroup label="together">' in page
    assert '<option value="GPT 5.2" selected>GPT 5.2 (default)</option>' in page
    assert '<option value="Llama B">Llama B (default)</option>' in page
    data = page_data(response)
    assert data["default_alias"] == "GPT 5.2"
    assert [g["integration"] for g in data["groups"]] == ["custom", "together"]
    assert data["groups"][1]["models"][0]["supported_parameters"] == [
        "frequency_penalty",
        "max_tokens",
        "presence_penalty",
        "stop_sequences",
        "temperature",
        "top_p",
    ]
    assert ">Run</button>" in page and ">Run all</button>" in page


def test_without_integrations_the_playground_points_to_settings(admin_client):
    page = admin_client.get("/playground").content.decode()
    assert "No models yet." in page and 'href="/settings/integrations"' in page


def test_parameter_inputs_are_derived_from_run_parameters():
    specs = parameter_specs()
    assert specs["temperature"] == {**specs["temperature"], "kind": "number", "min": 0, "max": 2}
    assert (specs["top_p"]["min"], specs["top_p"]["max"]) == (0, 1)
    assert (specs["frequency_penalty"]["min"], specs["frequency_penalty"]["max"]) == (-2, 2)
    assert specs["max_tokens"]["kind"] == "integer" and specs["max_tokens"]["min"] == 1
    assert specs["n"]["kind"] == "integer" and specs["n"]["max"] == 16
    assert specs["stop_sequences"]["kind"] == "lines"
    assert specs["reasoning_effort"] == {**specs["reasoning_effort"], "kind": "choice"}
    assert specs["reasoning_effort"]["options"] == ["none", "minimal", "low", "medium", "high", "xhigh"]
    assert specs["verbosity"]["options"] == ["low", "medium", "high"]
    assert {specs[name]["kind"] for name in ("tools", "tool_choice", "response_format")} == {"json"}
    assert specs["echo"]["kind"] == "boolean"


def test_variables_are_found_in_order_and_substituted():
    messages = [
        {"role": "system", "content": "You speak {{ language }}."},
        {"role": "user", "content": "Tell me about {{city}} in {{language}}."},
    ]
    assert message_variables(messages) == ["language", "city"]
    rendered = messages_render(messages, {"language": "Portuguese", "city": "Porto"})
    assert rendered[1]["content"] == "Tell me about Porto in Portuguese."
    assert rendered[0]["content"] == "You speak Portuguese."


def test_a_run_starts_with_variables_substituted_and_streaming(admin_client, integration, admin_user):
    response = start(
        admin_client,
        messages=[{"role": "user", "content": "Weather in {{city}}?"}],
        variables={"city": "Oslo"},
        columns=[{"model": "GPT 5.2", "parameters": {"temperature": 0.3, "max_tokens": 50}}],
    )
    assert response.status_code == 202
    body = response.json()
    run = Run.objects.get(pk=body["runs"][0]["id"])
    assert run.messages == [{"role": "user", "content": "Weather in Oslo?"}]
    assert run.parameters == {"temperature": 0.3, "max_tokens": 50}
    assert run.stream is True and run.user == admin_user
    assert run.job.kind == Job.Kind.PLAYGROUND and str(run.job_id) == body["job"]
    assert body["runs"][0]["status"] == "queued"


def test_compare_starts_one_run_per_column_in_one_job(member_client, integration):
    response = start(
        member_client,
        columns=[{"model": "GPT 5.2"}, {"model": "Opus 4.6", "parameters": {"top_k": 40}}],
        stream=False,
    )
    assert response.status_code == 202
    runs = [Run.objects.get(pk=item["id"]) for item in response.json()["runs"]]
    assert [r.model_alias for r in runs] == ["GPT 5.2", "Opus 4.6"]
    assert runs[0].job_id == runs[1].job_id
    assert runs[1].parameters == {"top_k": 40} and not runs[1].stream


def test_bad_parameters_come_back_with_column_paths_and_nothing_is_queued(admin_client, integration):
    response = start(
        admin_client,
        columns=[
            {"model": "GPT 5.2", "parameters": {"temperature": 0.5}},
            {"model": "GPT 5.4", "parameters": {"temperature": 7, "max_tokens": 2.5}},
            {"model": "No such model"},
        ],
    )
    assert response.status_code == 422
    errors = {tuple(error["loc"]): error for error in response.json()["detail"]}
    assert ("body", "columns", 1, "parameters", "temperature") in errors
    assert ("body", "columns", 1, "parameters", "max_tokens") in errors
    assert errors[("body", "columns", 2, "model")]["msg"] == "Pick a model."
    assert set(errors[("body", "columns", 2, "model")]) == {"loc", "msg", "type"}  # the API's 422 shape
    assert not Run.objects.exists() and not Job.objects.exists()


def test_missing_variables_and_bad_messages_are_reported(admin_client, integration):
    response = start(
        admin_client,
        messages=[{"role": "user", "content": "Hi {{name}}"}, {"role": "robot", "content": "x"}],
        columns=[{"model": "GPT 5.2"}],
    )
    assert response.status_code == 422
    locs = [tuple(error["loc"]) for error in response.json()["detail"]]
    assert ("body", "variables", "name") in locs
    assert ("body", "messages", 1, "role") in locs
    assert not Run.objects.exists()


def test_runs_and_jobs_are_readable_as_json_within_the_organisation_only(
    admin_client, member_client, integration, other_admin, other_integration
):
    run_id = start(admin_client, columns=[{"model": "GPT 5.2"}]).json()["runs"][0]["id"]
    Run.objects.filter(pk=run_id).update(
        status=RunStatus.SUCCEEDED, output="Hi!", usage={"prompt_tokens": 3, "completion_tokens": 2}, latency_ms=120.0
    )
    body = member_client.get(f"/playground/runs/{run_id}").json()
    api = member_client.get(f"/api/v2/runs/{run_id}").json()
    assert {key: body[key] for key in api} == api  # the API's representation, and what reopens it
    assert set(body) - set(api) == {"template", "variables", "prompt_version_summary", "schema_check"}
    assert body["output"] == "Hi!" and body["status"] == "succeeded" and body["latency_ms"] == 120.0
    assert body["messages"] == [{"role": "user", "content": "Hello"}]
    job_id = body["job"]
    assert member_client.get(f"/playground/jobs/{job_id}").json()["done"] is True

    theirs = Client()
    theirs.force_login(other_admin)
    assert theirs.get(f"/playground/runs/{run_id}").status_code == 404
    assert theirs.get(f"/playground/jobs/{job_id}").status_code == 404
    assert start(theirs, columns=[{"model": "GPT 5.2"}]).status_code == 422  # not their model


def test_the_history_lists_the_users_own_playground_runs(admin_client, member_client, integration):
    start(admin_client, messages=[{"role": "user", "content": "first question"}], columns=[{"model": "GPT 5.2"}])
    start(member_client, messages=[{"role": "user", "content": "someone else's"}], columns=[{"model": "GPT 5.4"}])
    history = page_data(admin_client.get("/playground"))["history"]
    assert [(h["model"], h["messages"][-1]["content"]) for h in history] == [("GPT 5.2", "first question")]


def test_starting_runs_needs_post_login_and_csrf(client, admin_user, integration):
    assert client.get(RUNS).status_code in (302, 405)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert start(strict, columns=[{"model": "GPT 5.2"}]).status_code == 403
    assert not Run.objects.exists()


def test_path_lines_maps_every_key_and_item_to_its_line():
    text = '{\n  "a": 1,\n  "list": [\n    {"x": true},\n    {\n      "y": null\n    }\n  ]\n}'
    lines = path_lines(text)
    assert lines[("a",)] == 2
    assert lines[("list", 0, "x")] == 4
    assert lines[("list", 1)] == 5 and lines[("list", 1, "y")] == 6
    annotated = annotate_errors(text, [{"loc": ["list", 1, "z"], "message": "required"}])
    assert annotated[0]["line"] == 5  # a missing key points at its object


def test_path_lines_survives_broken_json():
    assert path_lines('{"a": [1, ') == {(): 1, ("a",): 1, ("a", 0): 1, ("a", 1): 1}
    assert annotate_errors("", [{"loc": [], "message": "Not valid JSON: x at line 1, column 1."}])[0]["line"] == 1


def test_page_json_endpoints_answer_bad_bodies_in_the_apis_problem_shape(admin_client, integration, org, admin_user):
    metric = metric_create(organization=org, user=admin_user, name="M", judge_model="GPT 5.2", prompt="{{output}}")
    for url in ("/playground/runs", f"/evaluations/metrics/{metric.uuid}/scores"):
        response = admin_client.post(url, "{not json", content_type="application/json")
        assert response.status_code == 400
        message = "Not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2."
        assert response.json() == {"detail": [{"loc": ["body"], "msg": message, "type": "json_invalid"}]}


def test_stop_cancels_the_users_queued_run_and_refuses_others(admin_client, member_client, integration, other_admin):
    run_id = start(member_client, columns=[{"model": "GPT 5.2"}]).json()["runs"][0]["id"]
    theirs = Client()
    theirs.force_login(other_admin)
    assert theirs.post(f"/playground/runs/{run_id}/cancel").status_code == 404
    assert member_client.get(f"/playground/runs/{run_id}/cancel").status_code == 405

    admins_run = start(admin_client, columns=[{"model": "GPT 5.2"}]).json()["runs"][0]["id"]
    refused = member_client.post(f"/playground/runs/{admins_run}/cancel")
    assert refused.status_code == 403
    assert refused.json()["detail"][0]["type"] == "permission_denied"
    assert Run.objects.get(pk=admins_run).status == RunStatus.QUEUED

    body = member_client.post(f"/playground/runs/{run_id}/cancel").json()
    assert body["status"] == "failed"
    assert body["error"] == {"type": "cancelled", "message": "Stopped before it started."}
    assert "template" in body  # what the page renders, as its other reads
    assert admin_client.post(f"/playground/runs/{admins_run}/cancel").json()["error"]["type"] == "cancelled"


def test_the_live_read_gives_a_running_streams_partial_text_within_the_organisation_only(
    admin_client, integration, other_admin
):
    from runners.live_output import live_output_publish

    run_id = start(admin_client, columns=[{"model": "GPT 5.2"}], stream=True).json()["runs"][0]["id"]
    assert admin_client.get(f"/playground/runs/{run_id}/live").json() == {
        "id": run_id,
        "status": "queued",
        "output": None,
    }
    Run.objects.filter(pk=run_id).update(status=RunStatus.RUNNING)
    live_output_publish(run_id=run_id, text="Once upon")
    assert admin_client.get(f"/playground/runs/{run_id}/live").json()["output"] == "Once upon"

    theirs = Client()
    theirs.force_login(other_admin)
    assert theirs.get(f"/playground/runs/{run_id}/live").status_code == 404
    assert admin_client.get("/playground/runs/00000000-0000-0000-0000-000000000000/live").status_code == 404
    # A finished run's text is the full read's: the live read says only that it ended.
    Run.objects.filter(pk=run_id).update(status=RunStatus.SUCCEEDED, output="Once upon a time")
    assert admin_client.get(f"/playground/runs/{run_id}/live").json() == {
        "id": run_id,
        "status": "succeeded",
        "output": None,
    }


def test_a_column_runs_a_saved_prompt_version_of_its_own(admin_client, admin_user, org, integration, other_org):
    from prompts.services import prompt_create

    prompt = prompt_create(
        organization=org, user=admin_user, name="french", messages=[{"role": "user", "content": "Bonjour {{who}}"}]
    )
    version = prompt.versions.get()
    theirs = prompt_create(organization=other_org, user=None, name="x", messages=[{"role": "user", "content": "x"}])
    columns = [{"model": "GPT 5.2"}, {"model": "GPT 5.2", "prompt_version": str(version.pk)}]

    missing = start(admin_client, columns=columns)
    assert missing.status_code == 422
    assert [(e["loc"], e["type"]) for e in missing.json()["detail"]] == [(["body", "variables", "who"], "missing")]
    foreign = start(admin_client, columns=[{"model": "GPT 5.2", "prompt_version": str(theirs.versions.get().pk)}])
    assert foreign.json()["detail"][0]["loc"] == ["body", "columns", 0, "prompt_version"]
    assert not Run.objects.exists()

    runs = start(admin_client, columns=columns, variables={"who": "Ada"}).json()["runs"]
    shared, variant = (Run.objects.get(pk=run["id"]) for run in runs)
    assert shared.messages == [{"role": "user", "content": "Hello"}] and shared.prompt_version_id is None
    assert variant.messages == [{"role": "user", "content": "Bonjour Ada"}]
    assert variant.prompt_version_id == version.pk
    assert variant.job.variables == {"who": "Ada"}
    page = page_data(admin_client.get("/playground"))
    assert page["prompt_versions"] == [{"id": str(version.pk), "label": "french · v1", "variables": ["who"]}]
