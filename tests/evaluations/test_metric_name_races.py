"""Attack (attack2-s2): two edits at once that give two metrics the same name. Each edit checks that the name is
free, then inserts its new version: both checks pass, the second INSERT breaks the unique constraint
(metric_name_unique_in_org) and the API answers 500 instead of the 422 at ["body", "name"] a single edit gets."""

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
