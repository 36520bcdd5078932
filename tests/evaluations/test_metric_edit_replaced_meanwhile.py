"""Attack (attack2-s2): two people edit one metric. B saves first (version 2); A, who spent ten minutes on a new
judge prompt, presses Save on the version-1 page. metric_edit_view sees that version 1 is no longer current and
redirects before reading the POST: A's prompt is thrown away, with no message, and A lands on B's version. The
service refuses this case properly (Invalid at ("metric",), "replaced"); the page must show A's text again with that
problem, not lose it."""

from evaluations.models import Metric
from evaluations.services.metrics import metric_update
from tests.evaluations.conftest import logged_in

A_PROMPT = "Careful rubric written for ten minutes.\nAnswer: {{output}}\nScore 1 only if it cites the policy."


def test_saving_an_edit_of_a_version_replaced_meanwhile_keeps_what_was_typed(
    admin_user, judge_integration, make_metric
):
    v1 = make_metric()
    client = logged_in(admin_user)
    assert client.get(f"/evaluations/metrics/{v1.uuid}/edit").status_code == 200  # A opens the page
    metric_update(metric=v1, user=admin_user, judges=2)  # B saves meanwhile: version 2

    response = client.post(
        f"/evaluations/metrics/{v1.uuid}/edit",
        {"name": "Correctness", "judge_model": "Judge", "judges": "1", "prompt": A_PROMPT, "parameters": ""},
    )
    # Today: 302 to version 2's edit page; A's prompt is nowhere.
    assert response.status_code in (200, 409, 422), (response.status_code, response.get("Location"))
    html = response.content.decode()
    assert "Careful rubric written for ten minutes." in html
    assert "current version" in html
    assert Metric.objects.filter(replaced_at__isnull=True).get().judges == 2  # B's version stays current


def test_the_page_says_who_saved_meanwhile_and_links_the_current_version(admin_user, judge_integration, make_metric):
    v1 = make_metric()
    v2 = metric_update(metric=v1, user=admin_user, judges=2)
    client = logged_in(admin_user)
    # Opening the replaced version still opens the current one: only a POST must keep what was typed.
    opened = client.get(f"/evaluations/metrics/{v1.uuid}/edit")
    assert (opened.status_code, opened["Location"]) == (302, f"/evaluations/metrics/{v2.uuid}/edit")

    form = {"name": "Correctness", "judge_model": "Judge", "judges": "3", "prompt": A_PROMPT, "parameters": ""}
    html = client.post(f"/evaluations/metrics/{v1.uuid}/edit", form).content.decode()
    assert "Changed by someone else meanwhile" in html
    assert f'href="/evaluations/metrics/{v2.uuid}/edit"' in html
    assert f"version 2 was saved by {admin_user.username}" in html
    assert 'value="3"' in html  # the judges typed, not B's 2
    assert Metric.objects.count() == 2


def test_a_double_click_on_save_of_an_edit_gets_the_version_the_first_click_made(
    admin_user, judge_integration, make_metric
):
    v1 = make_metric()
    client = logged_in(admin_user)
    form = {"name": "Correctness", "judge_model": "Judge", "judges": "1", "prompt": A_PROMPT, "parameters": ""}
    first = client.post(f"/evaluations/metrics/{v1.uuid}/edit", form)
    second = client.post(f"/evaluations/metrics/{v1.uuid}/edit", form)  # the same page's form, sent again
    assert (first.status_code, second.status_code) == (302, 302)
    assert Metric.objects.count() == 2
    assert Metric.objects.get(replaced_at__isnull=True).prompt == A_PROMPT
