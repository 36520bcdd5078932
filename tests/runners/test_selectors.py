from runners.selectors import run_get, run_list, run_live_output
from tests.runners.conftest import provider_document


def test_run_get_finds_only_the_organisations_runs(execute, openai_server, integrate, enqueue, org, other_org):
    run = execute(enqueue(integrate(provider_document(openai_server.url))))

    assert run_get(organization=org, run_id=run.pk) == run
    assert run_get(organization=org, run_id=str(run.pk)) == run
    assert run_get(organization=other_org, run_id=run.pk) is None
    assert run_get(organization=org, run_id="not-a-uuid") is None


def test_run_list_narrows_and_orders_newest_first(
    execute, openai_server, integrate, enqueue, org, other_org, member_user
):
    integration = integrate(provider_document(openai_server.url, models=["echo-model", "status-500"]))
    first = execute(enqueue(integration))
    second = execute(enqueue(integration, "status-500", user=member_user))

    assert list(run_list(organization=org)) == [second, first]
    assert list(run_list(organization=org, status="failed")) == [second]
    assert list(run_list(organization=org, user=member_user)) == [second]
    assert list(run_list(organization=org, integration=integration, limit=1)) == [second]
    assert list(run_list(organization=other_org)) == []


def test_live_output_is_none_before_a_run_starts(transactional_db, openai_server, integrate, queued_run):
    run = queued_run(integrate(provider_document(openai_server.url)))

    assert run.status == "queued"
    assert run_live_output(run) is None
