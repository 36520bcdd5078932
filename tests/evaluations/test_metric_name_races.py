"""Attack (attack2-s2): two edits at once that give two metrics the same name. Each edit checks that the name is
free, then inserts its new version: both checks pass, the second INSERT breaks the unique constraint
(metric_name_unique_in_org) and the API answers 500 instead of the 422 at ["body", "name"] a single edit gets."""

import re
import threading

import pytest
from django.db import connection, connections

from evaluations.models import Metric
from evaluations.services import metrics as metric_services
from tests.api.conftest import client_for


@pytest.mark.django_db(transaction=True)
def test_two_edits_at_once_renaming_two_metrics_to_one_name_give_one_422_not_a_500(
    org, admin_user, judge_integration, make_metric, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL; run with DATABASE_URL")
    first, second = make_metric(name="Accuracy"), make_metric(name="Tone")
    # Both requests have checked the name before either inserts: the window any two requests can hit.
    barrier = threading.Barrier(2)
    checked = metric_services._metric_fields_clean

    def check_then_wait(**kwargs):
        fields = checked(**kwargs)
        barrier.wait(timeout=10)
        return fields

    monkeypatch.setattr(metric_services, "_metric_fields_clean", check_then_wait)
    statuses: list = []

    def rename(metric) -> None:
        client = client_for(admin_user)
        client.raise_request_exception = False  # a view's exception is the 500 the caller gets
        try:
            response = client.patch(f"/api/v2/metrics/{metric.uuid}", {"name": "Quality"}, format="json")
            statuses.append((response.status_code, response.json() if response.status_code < 500 else None))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=rename, args=(metric,)) for metric in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(code for code, _ in statuses)
    assert codes == [200, 422], statuses
    (refused,) = [body for code, body in statuses if code == 422]
    assert refused["detail"][0]["loc"] == ["body", "name"]
    assert Metric.objects.filter(name="Quality", replaced_at__isnull=True).count() == 1
    # The loser's metric is unchanged: still current under its old name, nothing half-saved.
    assert Metric.objects.filter(replaced_at__isnull=True).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_save_metric_gives_one_metric_and_no_500(org, admin_user, judge_integration, monkeypatch):
    """The metrics page's form has no token against a double submit: two POSTs of the same new metric both find the
    name free, and the second INSERT is a 500 page."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL; run with DATABASE_URL")
    from tests.evaluations.conftest import logged_in

    barrier = threading.Barrier(2)
    checked = metric_services._metric_fields_clean

    def check_then_wait(**kwargs):
        fields = checked(**kwargs)
        barrier.wait(timeout=10)
        return fields

    monkeypatch.setattr(metric_services, "_metric_fields_clean", check_then_wait)
    form = {"name": "Politeness", "judge_model": "Judge", "judges": "1", "prompt": "Rate {{output}}", "parameters": ""}
    statuses: list = []

    def submit() -> None:
        client = logged_in(admin_user)
        client.raise_request_exception = False  # a view's exception is the 500 page the user sees
        try:
            statuses.append(client.post("/evaluations/metrics", form).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(status in (302, 422) for status in statuses), statuses
    assert Metric.objects.filter(name="Politeness").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_save_metric_with_the_form_token_opens_the_first_metric(
    org, admin_user, judge_integration, monkeypatch
):
    """The page's form carries a once-token: both clicks of a double click land on the metric the first saved."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL; run with DATABASE_URL")
    from tests.evaluations.conftest import logged_in

    barrier = threading.Barrier(2)
    checked = metric_services._metric_fields_clean

    def check_then_wait(**kwargs):
        fields = checked(**kwargs)
        barrier.wait(timeout=10)
        return fields

    monkeypatch.setattr(metric_services, "_metric_fields_clean", check_then_wait)
    page = logged_in(admin_user).get("/evaluations/metrics").content.decode()
    token = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page).group(1)
    form = {"name": "Politeness", "judge_model": "Judge", "judges": "1", "prompt": "Rate {{output}}"}
    statuses: list = []

    def submit() -> None:
        client = logged_in(admin_user)
        client.raise_request_exception = False
        try:
            statuses.append(client.post("/evaluations/metrics", {**form, "idempotency_key": token}).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302, 302]
    assert Metric.objects.get(name="Politeness").idempotency_key == token


def test_a_second_submit_of_the_same_metric_form_opens_the_first_and_a_changed_form_is_a_new_metric(
    org, admin_user, judge_integration
):
    from tests.evaluations.conftest import logged_in

    client = logged_in(admin_user)
    form = {"idempotency_key": "f" * 32, "name": "Politeness", "judge_model": "Judge", "judges": "1"}
    form["prompt"] = "Rate {{output}}"
    first, second = client.post("/evaluations/metrics", form), client.post("/evaluations/metrics", form)
    assert (first.status_code, second.status_code) == (302, 302)
    assert Metric.objects.filter(name="Politeness").count() == 1
    # Back, change the name, submit: the same token with another form is a new metric, not the first one again.
    assert client.post("/evaluations/metrics", {**form, "name": "Brevity"}).status_code == 302
    assert sorted(Metric.objects.values_list("name", flat=True)) == ["Brevity", "Politeness"]
    # Without a token (an old page), a second submit is the usual error at the name.
    again = client.post("/evaluations/metrics", {**form, "idempotency_key": ""})
    assert (
        again.status_code == 422 and "A metric named &quot;Politeness&quot; already exists." in again.content.decode()
    )


def test_a_second_submit_of_the_code_check_form_opens_the_first(org, admin_user):
    from tests.evaluations.conftest import logged_in

    client = logged_in(admin_user)
    form = {"code-idempotency_key": "c" * 32, "code-name": "Is JSON", "code-check": "valid_json"}
    statuses = [client.post("/evaluations/metrics/code", form).status_code for _ in range(2)]
    assert statuses == [302, 302]
    assert Metric.objects.filter(name="Is JSON").count() == 1


def test_a_name_taken_between_the_check_and_the_insert_is_the_422_at_name_with_nothing_saved(
    org, admin_user, judge_integration, make_metric, monkeypatch
):
    """The database's constraint decides (on SQLite too): another request's metric lands after this one's check."""
    first = make_metric(name="Accuracy")
    checked = metric_services._metric_fields_clean

    def check_then_taken(**kwargs):
        fields = checked(**kwargs)
        # Another request's metric, committed meanwhile.
        Metric.objects.create(organization=org, name="Quality", judge_model="Judge", prompt="Rate {{output}}")
        return fields

    monkeypatch.setattr(metric_services, "_metric_fields_clean", check_then_taken)
    client = client_for(admin_user)
    renamed = client.patch(f"/api/v2/metrics/{first.uuid}", {"name": "Quality"}, format="json")
    assert renamed.status_code == 422, renamed.json()
    (problem,) = renamed.json()["detail"]
    assert (problem["loc"], problem["type"]) == (["body", "name"], "unique")
    assert problem["msg"] == 'A metric named "Quality" already exists.'
    first.refresh_from_db()
    assert first.replaced_at is None and first.name == "Accuracy"  # the UPDATE of the same savepoint is undone

    Metric.objects.filter(name="Quality").delete()  # the create's turn: taken again between its check and INSERT
    created = client.post(
        "/api/v2/metrics", {"name": "Quality", "judge_model": "Judge", "prompt": "Rate {{output}}"}, format="json"
    )
    assert created.status_code == 422 and created.json()["detail"][0]["loc"] == ["body", "name"]
    assert Metric.objects.filter(name="Quality").count() == 1
