import json
import re
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from integrations.models import Integration
from integrations.services import integration_upsert
from runners.connection_test import TEST_PROMPT, integration_test_start
from runners.models import Job, Run, RunStatus
from tests.factories import api_key_document, make_integration
from tests.pages.conftest import PLANTED_HEADER, PLANTED_KEY

pytestmark = pytest.mark.django_db

SETTINGS = "/settings/integrations"
NEW = "/settings/integrations/custom/new"


def edit_url(name="custom"):
    return f"/settings/integrations/custom/{name}/edit"


def delete_url(name="custom"):
    return f"/settings/integrations/custom/{name}/delete"


def start_test_url(name="custom"):
    return f"/settings/integrations/custom/{name}/test"


def html(response) -> str:
    return response.content.decode()


def textarea_text(page: str) -> str:
    match = re.search(r'<textarea id="id_document"[^>]*>(.*?)</textarea>', page, re.S)
    return unescape(match.group(1))


@pytest.mark.parametrize("url", [SETTINGS, NEW, edit_url(), delete_url(), "/playground"])
def test_it_sends_anonymous_visitors_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_login_page_logs_in_and_lands_on_integrations(client, admin_user):
    page = html(client.get("/accounts/login/"))
    assert '<label for="id_username">Username</label>' in page
    response = client.post("/accounts/login/", {"username": "ada", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert response["Location"] == SETTINGS


def test_the_nav_shows_user_organisation_a_post_logout_and_admin_for_staff_only(
    admin_client, admin_user, member_client
):
    page = html(admin_client.get(SETTINGS))
    assert 'action="/accounts/logout/"' in page
    assert "Acme · Admin" in page
    assert 'href="/admin/"' not in page
    admin_user.is_staff = True
    admin_user.save()
    assert 'href="/admin/"' in html(admin_client.get(SETTINGS))
    assert 'href="/admin/"' not in html(member_client.get(SETTINGS))


def test_it_shows_the_custom_card_and_built_in_provider_cards(admin_client):
    page = html(admin_client.get(SETTINGS))
    assert f'href="{NEW}">Add Integration</a>' in page
    for provider in ("OpenAI", "Anthropic", "Azure", "AWS Bedrock", "Vertex AI", "Mistral", "NVIDIA", "Writer"):
        assert f">{provider} <span" in page
    assert page.count("Add Integration</a>") == 1  # built-in cards explain based_on instead


def test_it_lists_the_organisations_integrations_with_models_and_actions(admin_client, integration):
    page = html(admin_client.get(SETTINGS))
    assert "https://provider.example/v1" in page
    assert "API key" in page and "x-portkey-api-key" in page
    for alias in ("GPT 5.2", "GPT 5.4", "Opus 4.6"):
        assert alias in page
    assert "Never tested" in page
    assert f'href="{edit_url()}"' in page
    assert f'href="{delete_url()}"' in page
    assert f'action="{start_test_url()}"' in page


def test_members_see_test_but_not_edit_or_delete(member_client, integration):
    page = html(member_client.get(SETTINGS))
    assert f'action="{start_test_url()}"' in page
    assert edit_url() not in page
    assert delete_url() not in page
    assert member_client.get(edit_url()).status_code == 403
    assert member_client.post(delete_url()).status_code == 403
    assert Integration.objects.filter(pk=integration.pk).exists()


def test_a_member_who_created_an_integration_may_edit_and_delete_it(member_client, member_user, org):
    make_integration(organization=org, user=member_user, name="mine")
    page = html(member_client.get(SETTINGS))
    assert edit_url("mine") in page and delete_url("mine") in page
    assert member_client.get(edit_url("mine")).status_code == 200


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", edit_url("theirs")),
        ("post", edit_url("theirs")),
        ("get", delete_url("theirs")),
        ("post", delete_url("theirs")),
        ("post", start_test_url("theirs")),
    ],
)
def test_another_organisations_integration_is_not_found(admin_client, other_integration, method, url):
    assert getattr(admin_client, method)(url).status_code == 404
    assert Integration.objects.filter(pk=other_integration.pk).exists()
    assert "theirs" not in html(admin_client.get(SETTINGS))


def test_the_editor_starts_with_a_starter_document_and_labelled_fields(admin_client):
    page = html(admin_client.get(NEW))
    assert '<label for="id_document">Integration JSON</label>' in page
    assert 'id="id_document" name="document"' in page
    assert "YOUR_PROVIDER_BASE_URL" in page
    assert ">Save changes</button>" in page
    assert "Claude Opus 4.6" in page  # the built-in alias reference


def test_saving_a_document_creates_the_integration(admin_client, org, admin_user):
    document = json.dumps(api_key_document(endpoint="https://gw.example/v1"), indent=2)
    response = admin_client.post(NEW, {"name": "portkey", "document": document})
    assert response.status_code == 302 and response["Location"] == SETTINGS
    integration = Integration.objects.get(organization=org, name="portkey")
    assert integration.created_by == admin_user
    assert [m.alias for m in integration.models.all()] == ["GPT 5.2", "GPT 5.4", "Opus 4.6"]
    assert "Added integration “portkey” with 3 models." in html(admin_client.get(SETTINGS))


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_bad_document_lists_errors_with_paths_and_lines_and_saves_nothing(admin_client):
    document = api_key_document()
    document["model_properties"][1]["based_on"] = "gpt-9000"
    document["model_properties"][0]["supported_parameters"][1] = "temprature"
    text = json.dumps(document, indent=2)
    response = admin_client.post(NEW, {"name": "custom", "document": text})
    assert response.status_code == 422
    assert not Integration.objects.exists()
    page = html(response)
    assert "2 problems in the document" in page
    based_on, parameter = line_of(text, '"gpt-9000"'), line_of(text, '"temprature"')
    assert f'data-path="model_properties[1].based_on" data-line="{based_on}"' in page
    assert "&quot;gpt-9000&quot; is not a built-in model alias." in page
    assert f'data-path="model_properties[0].supported_parameters[1]" data-line="{parameter}"' in page
    assert f'data-error-lines="{parameter},{based_on}"' in page  # highlighted in the gutter
    assert "temprature" in textarea_text(page)  # the pasted text is kept for fixing


def test_a_missing_property_points_at_its_object(admin_client):
    document = api_key_document()
    del document["endpoint"]
    page = html(admin_client.post(NEW, {"name": "custom", "document": json.dumps(document, indent=2)}))
    assert 'data-path="endpoint" data-line="1"' in page
    assert "This property is required." in page


def test_a_json_syntax_error_points_at_its_line(admin_client):
    text = '{\n  "endpoint": "https://x.example/v1",\n  "model_properties": [\n    {"name": "a" "alias": "b"}\n  ]\n}'
    page = html(admin_client.post(NEW, {"name": "custom", "document": text}))
    assert 'data-path="(document)" data-line="4"' in page
    assert "Not valid JSON" in page


def test_a_bad_name_shows_on_the_name_field(admin_client):
    response = admin_client.post(NEW, {"name": "not a slug", "document": json.dumps(api_key_document())})
    page = html(response)
    assert response.status_code == 422
    assert 'id="name-errors"' in page and "letters, digits" in page.lower()
    assert 'id="document-errors"' not in page


def test_editing_shows_secrets_as_placeholders_and_saving_keeps_them(admin_client, integration):
    page = html(admin_client.get(edit_url()))
    assert "********" in page
    assert PLANTED_KEY not in page and PLANTED_HEADER not in page
    assert "Leave them as they are to keep the stored values" in page
    # Send the document back as shown (placeholders included), with one change.
    shown = json.loads(textarea_text(page))
    shown["endpoint"] = "https://moved.example/v1"
    response = admin_client.post(edit_url(), {"document": json.dumps(shown)})
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.endpoint == "https://moved.example/v1"
    assert integration.api_key_value == PLANTED_KEY
    assert integration.headers == {"X-Tenant-Secret": PLANTED_HEADER}


def test_delete_asks_for_confirmation_then_deletes_on_post(admin_client, integration):
    page = html(admin_client.get(delete_url()))
    assert "Delete integration “custom”?" in page
    assert ">Delete integration</button>" in page
    assert Integration.objects.filter(pk=integration.pk).exists()
    response = admin_client.post(delete_url())
    assert response.status_code == 302 and response["Location"] == SETTINGS
    assert not Integration.objects.filter(pk=integration.pk).exists()


def test_test_queues_one_small_run_per_model_and_shows_results(admin_client, integration, admin_user):
    response = admin_client.post(start_test_url())
    job = Job.objects.get(kind=Job.Kind.TEST, integration=integration)
    assert response.status_code == 302
    assert response["Location"] == f"/settings/integrations/custom/custom/tests/{job.pk}"
    runs = list(job.runs.order_by("model_alias"))
    assert [r.model_alias for r in runs] == ["GPT 5.2", "GPT 5.4", "Opus 4.6"]
    assert all(r.messages == [{"role": "user", "content": TEST_PROMPT}] for r in runs)
    assert all(r.parameters == {} and r.stream for r in runs)  # what a Playground run with default parameters is
    assert all(r.user == admin_user for r in runs)
    page = html(admin_client.get(response["Location"]))
    assert 'data-done="false"' in page and "Waiting for a worker" in page
    assert "running" in html(admin_client.get(SETTINGS))


def test_results_show_answers_errors_latency_and_the_redacted_request(admin_client, integration):
    admin_client.post(start_test_url())
    job = Job.objects.get(kind=Job.Kind.TEST)
    first, second, third = job.runs.order_by("model_alias")
    request = {"url": "https://provider.example/v1/chat/completions", "headers": {"x-portkey-api-key": "********"}}
    Run.objects.filter(pk=first.pk).update(status=RunStatus.SUCCEEDED, output="OK", latency_ms=412.0, request=request)
    Run.objects.filter(pk=second.pk).update(status=RunStatus.SUCCEEDED, output="OK.", latency_ms=1500.0)
    Run.objects.filter(pk=third.pk).update(
        status=RunStatus.FAILED, error_type="authentication", error_message="HTTP 401 from the provider: bad key"
    )
    url = f"/settings/integrations/custom/custom/tests/{job.pk}"
    page = html(admin_client.get(url + "?partial=1"))
    assert 'data-done="true"' in page
    assert "412 ms" in page and "1.50 s" in page
    assert "HTTP 401 from the provider: bad key" in page
    assert "Request as sent" in page and "x-portkey-api-key" in page
    assert "<html" not in page  # a fragment for the live refresh
    settings_page = html(admin_client.get(SETTINGS))
    assert "failed · 1 of 3" in settings_page


def test_a_test_answer_that_only_called_a_tool_shows_the_call_not_an_empty_answer(admin_client, integration):
    admin_client.post(start_test_url())
    job = Job.objects.get(kind=Job.Kind.TEST)
    first = job.runs.order_by("model_alias").first()
    calls = [{"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": '{"q":"x"}'}}]
    Run.objects.filter(pk=first.pk).update(
        status=RunStatus.SUCCEEDED, output="", tool_calls=calls, reasoning="Check first.", finish_reason="tool_calls"
    )
    page = html(admin_client.get(f"/settings/integrations/custom/custom/tests/{job.pk}?partial=1"))
    assert "lookup({&quot;q&quot;:&quot;x&quot;})" in page and "Check first." in page
    assert "(empty answer)" not in page.split('data-model="' + first.model_alias + '"', 1)[1].split("</li>", 1)[0]


def test_another_organisations_test_results_are_not_found(admin_client, other_integration, other_admin):
    job = integration_test_start(integration=other_integration, user=other_admin)
    assert admin_client.get(f"/settings/integrations/custom/theirs/tests/{job.pk}").status_code == 404


def test_planted_secrets_never_appear_in_any_page(admin_client, member_client, integration, admin_user):
    admin_client.post(start_test_url())
    job = Job.objects.get(kind=Job.Kind.TEST)
    job.runs.update(
        status=RunStatus.SUCCEEDED,
        output="OK",
        request={"headers": {"x-portkey-api-key": "********", "X-Tenant-Secret": "********"}},
    )
    run = job.runs.first()
    pages = [
        SETTINGS,
        NEW,
        edit_url(),
        delete_url(),
        f"/settings/integrations/custom/custom/tests/{job.pk}",
        "/playground",
        f"/playground/runs/{run.pk}",
        f"/playground/jobs/{job.pk}",
    ]
    for client in (admin_client, member_client):
        for url in pages:
            response = client.get(url)
            assert response.status_code in (200, 403), url
            body = response.content.decode()
            assert PLANTED_KEY not in body, url
            assert PLANTED_HEADER not in body, url


@pytest.mark.parametrize(
    "url,data",
    [
        (NEW, {"name": "x", "document": json.dumps(api_key_document())}),
        (delete_url(), {}),
        (start_test_url(), {}),
        ("/accounts/logout/", {}),
    ],
)
def test_state_changing_posts_need_a_csrf_token(admin_user, integration, url, data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(url, data).status_code == 403
    assert Integration.objects.count() == 1
    assert not Job.objects.exists()


def test_every_form_carries_a_csrf_token(admin_client, integration):
    for url in (SETTINGS, NEW, edit_url(), delete_url()):
        page = html(admin_client.get(url))
        assert page.count("<form") == page.count('name="csrfmiddlewaretoken"'), url


def test_a_user_without_an_organisation_is_refused(db, django_user_model):
    user = django_user_model.objects.create_user("loner", password="x-y-z-long-password")
    client = Client()
    client.force_login(user)
    assert client.get(SETTINGS).status_code == 403
    assert client.get("/playground").status_code == 403


def test_test_refuses_get(admin_client, integration):
    assert admin_client.get(start_test_url()).status_code == 405
    assert not Job.objects.exists()


def test_an_alias_taken_by_another_integration_is_reported_with_its_path(admin_client, org, admin_user):
    integration_upsert(organization=org, user=admin_user, name="first", document=api_key_document())
    response = admin_client.post(NEW, {"name": "second", "document": json.dumps(api_key_document())})
    page = html(response)
    assert 'data-path="model_properties[0].alias"' in page
    assert "already used by integration" in page


def test_adding_never_replaces_an_existing_integration(member_client, integration):
    document = api_key_document(endpoint="https://hijack.example/v1", model_properties=[{"name": "x", "alias": "X"}])
    response = member_client.post(NEW, {"name": "custom", "document": json.dumps(document)})
    assert response.status_code == 422
    assert "An integration named “custom” already exists." in html(response)
    integration.refresh_from_db()
    assert integration.endpoint == "https://provider.example/v1"


def test_the_editor_offers_the_seeds_examples_which_are_all_valid(admin_client):
    from integrations.document import parse_document

    page = html(admin_client.get(NEW))
    examples = json.loads(
        page.split('<script id="integration-examples" type="application/json">')[1].split("</script>")[0]
    )
    assert list(examples) == ["API key", "Bearer token", "OAuth2", "No authentication"]
    for text in examples.values():
        parse_document(text)  # raises if the example would not save


def test_the_list_reads_the_latest_tests_once_however_many_integrations(admin_client, org, admin_user):
    def tested(name: str, alias: str) -> None:
        document = api_key_document(model_properties=[{"name": f"{name}-model", "alias": alias, "based_on": "gpt-4.1"}])
        integration_test_start(
            integration=make_integration(organization=org, user=admin_user, name=name, document=document),
            user=admin_user,
        )

    tested("first", "First")
    with CaptureQueriesContext(connection) as one:
        assert "running" in html(admin_client.get(SETTINGS))
    tested("second", "Second")
    tested("third", "Third")
    with CaptureQueriesContext(connection) as three:
        page = html(admin_client.get(SETTINGS))

    assert page.count("status-running") == 3
    assert len(three.captured_queries) == len(one.captured_queries)


def test_the_summary_reads_right_for_one_model_and_for_several(admin_client, integration):
    admin_client.post(start_test_url())
    job = Job.objects.get(kind=Job.Kind.TEST)
    job.runs.update(status=RunStatus.SUCCEEDED, output="OK")
    url = f"/settings/integrations/custom/custom/tests/{job.pk}?partial=1"
    assert "All 3 models answered." in html(admin_client.get(url))
    job.runs.exclude(pk=job.runs.order_by("model_alias").first().pk).delete()
    page = html(admin_client.get(url))
    assert "The model answered." in page and "All 1 model" not in page


def test_the_favicon_is_found_where_browsers_look_for_it(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("img/favicon.svg")
    from django.contrib.staticfiles import finders

    assert finders.find("img/favicon.svg")
