"""Limits per integration (runners.limits): the document keys, max_concurrency and requests_per_minute enforced in
Redis across two real worker processes, deferred runs that hold no thread and that the reaper leaves alone, and a
provider's 429 slowing the integration down until answers succeed again."""

import time
import uuid

import pytest
from django.db import transaction

from core.problems import Invalid
from integrations.models import ModelProperty
from integrations.services import integration_document
from runners import limits
from runners.models import Run
from runners.reaper import runs_reap_lost, runs_republish_stale
from runners.services import run_enqueue
from tests.fixtures.worker import wait_for_run
from tests.runners.conftest import provider_document


@pytest.fixture(autouse=True)
def _fresh_limits():
    """Integration ids repeat between tests: each starts with no limiter state of this session's queue."""
    yield
    client = limits._client()
    for key in client.scan_iter(f"{limits.key_prefix()}*"):
        client.delete(key)


@pytest.mark.parametrize(
    ("key", "value", "kind"),
    [
        ("max_concurrency", 0, "limit_range"),
        ("max_concurrency", 10_001, "limit_range"),
        ("max_concurrency", "4", "int_type"),
        ("max_concurrency", True, "int_type"),
        ("requests_per_minute", -1, "limit_range"),
        ("requests_per_minute", 1.5, "int_type"),
    ],
)
def test_a_bad_limit_is_refused_with_its_path(db, openai_server, integrate, key, value, kind):
    with pytest.raises(Invalid) as caught:
        integrate(provider_document(openai_server.url, **{key: value}))
    assert [(problem.loc, problem.type) for problem in caught.value.errors] == [((key,), kind)]


def test_limits_are_stored_and_read_back_in_the_document(db, openai_server, integrate):
    integration = integrate(provider_document(openai_server.url, max_concurrency=4, requests_per_minute=600))
    document = integration_document(integration=integration)
    assert (document["max_concurrency"], document["requests_per_minute"]) == (4, 600)
    assert "max_concurrency" not in integration_document(integration=integrate(provider_document(openai_server.url)))


def _enqueue(model, user, count):
    with transaction.atomic():
        return [
            run_enqueue(model=model, user=user, messages=[{"role": "user", "content": f"r{n}"}]) for n in range(count)
        ]


def test_max_concurrency_holds_across_two_worker_processes(celery_worker_process, openai_server, integrate, admin_user):
    for _ in range(2):
        celery_worker_process(concurrency=4)
    integration = integrate(provider_document(openai_server.url, models=("slow-0.3",), max_concurrency=3))
    runs = _enqueue(ModelProperty.objects.get(integration=integration), admin_user, 18)
    finished = [wait_for_run(run.pk, timeout=60) for run in runs]

    assert {run.status for run in finished} == {"succeeded"}
    assert openai_server.peak_in_flight == 3  # 8 worker slots, never more than 3 at the provider
    # Runs that found no place were given back and came again later (deferred), not kept waiting on a thread.
    assert sum(1 for run in finished if run.deferred_until is not None) >= 5
    assert all(len(run.attempt_log) == 1 for run in finished)
    assert limits.usage_of([integration.pk])[integration.pk].in_flight == 0


@pytest.mark.slow
def test_requests_per_minute_is_never_exceeded_and_deferred_runs_are_not_lost(
    celery_worker_process, openai_server, integrate, admin_user
):
    for _ in range(2):
        celery_worker_process(concurrency=4)
    openai_server.requests_per_minute = 5  # the provider enforces exactly the document's limit, sliding 60 s
    integration = integrate(provider_document(openai_server.url, requests_per_minute=5))
    runs = _enqueue(ModelProperty.objects.get(integration=integration), admin_user, 8)
    deadline = time.monotonic() + 10
    while Run.objects.filter(pk__in=[run.pk for run in runs], status="succeeded").count() < 5:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1)

    waiting = Run.objects.filter(pk__in=[run.pk for run in runs], status="queued")
    assert waiting.count() == 3 and not waiting.filter(deferred_until__isnull=True).exists()
    usage = limits.usage_of([integration.pk])[integration.pk]
    assert (usage.sent_last_minute, usage.waiting) == (5, 3)
    # The reaper, even with no patience at all, neither fails nor republishes a run that only waits for capacity.
    assert runs_reap_lost(lost_after=0) == 0
    assert runs_republish_stale(older_than=0) == 0
    assert not waiting.filter(republished_at__isnull=False).exists()

    finished = [wait_for_run(run.pk, timeout=90) for run in runs]
    assert {run.status for run in finished} == {"succeeded"}
    assert openai_server.rate_limited == 0 and len(openai_server.completion_requests) == 8
    started = sorted(run.started_at for run in finished)
    assert (started[5] - started[0]).total_seconds() >= 59  # the sixth went out when the first left the window


def test_a_429_halves_the_integrations_concurrency_and_successes_bring_it_back(db, settings):
    settings.RUNNERS_BACKOFF_CEILING_SECONDS = 60
    integration_id = -int(uuid.uuid4().int % 10**9)  # keys nobody else uses
    for n in range(8):
        assert limits.capacity_acquire(
            integration_id=integration_id, run_id=f"r{n}", max_concurrency=8, requests_per_minute=None, deferrals=0
        ).granted
    # Eight in flight when the provider says 429: four, then two.
    assert limits.answered(integration_id=integration_id, max_concurrency=8, rate_limited=True) == 4
    assert limits.answered(integration_id=integration_id, max_concurrency=8, rate_limited=True) == 2
    for n in range(8):
        limits.capacity_release(integration_id=integration_id, run_id=f"r{n}")
    granted = [
        limits.capacity_acquire(
            integration_id=integration_id, run_id=f"s{n}", max_concurrency=8, requests_per_minute=None, deferrals=0
        ).granted
        for n in range(4)
    ]
    assert granted == [True, True, False, False]
    assert limits.usage_of([integration_id])[integration_id].ceiling == 2
    # Additive increase: +1/ceiling per answer that was not a 429, until the document's limit lifts the ceiling.
    ceilings = [
        limits.answered(integration_id=integration_id, max_concurrency=8, rate_limited=False) for _ in range(40)
    ]
    assert ceilings[0] == 2.5 and ceilings == sorted(ceilings[: ceilings.index(0)]) + [0] * ceilings.count(0)
    assert 0 in ceilings and limits.usage_of([integration_id])[integration_id].ceiling is None


def test_the_integrations_page_shows_limits_runs_in_flight_and_waiting(
    db, client, openai_server, integrate, admin_user
):
    integration = integrate(provider_document(openai_server.url, max_concurrency=1, requests_per_minute=600))
    plain = integrate(provider_document(openai_server.url, models=("other",)), name="plain")
    taken = limits.capacity_acquire(
        integration_id=integration.pk, run_id="a", max_concurrency=1, requests_per_minute=600, deferrals=0
    )
    refused = limits.capacity_acquire(
        integration_id=integration.pk, run_id="b", max_concurrency=1, requests_per_minute=600, deferrals=0
    )
    assert taken.granted and not refused.granted and 0.125 <= refused.retry_in <= 0.25
    # The limiter does not count an integration without limits in flight: the page shows its running runs instead.
    other = ModelProperty.objects.get(integration=plain)
    with transaction.atomic():
        running = [run_enqueue(model=other, user=admin_user, messages=[{"role": "user", "content": "x"}]) for _ in "ab"]
    Run.objects.filter(pk__in=[run.pk for run in running]).update(status="running")
    try:
        client.force_login(admin_user)
        page = client.get("/settings/integrations").content.decode()
    finally:
        limits.capacity_release(integration_id=integration.pk, run_id="a")
    card = page[page.index(f'id="integration-{integration.name}"') : page.index(f'id="integration-{plain.name}"')]
    assert 'data-limit="max_concurrency">at most 1 in flight' in card
    assert 'data-limit="requests_per_minute">600 requests a minute' in card
    assert 'data-in-flight="1"' in card and 'data-waiting="1"' in card
    plain_card = page[page.index(f'id="integration-{plain.name}"') :]
    assert '<span class="muted">None</span>' in plain_card[: plain_card.index("Last test")]
    assert 'data-in-flight="2"' in plain_card


def test_an_integration_without_limits_costs_no_place_in_flight_until_a_429_sets_a_ceiling(db, monkeypatch):
    monkeypatch.setattr(limits, "CEILING_RECHECK_SECONDS", 0.3)
    integration_id = -int(uuid.uuid4().int % 10**9)
    unlimited = {"integration_id": integration_id, "max_concurrency": None, "requests_per_minute": None}

    first = limits.capacity_acquire(run_id="a", deferrals=0, **unlimited)
    assert first.granted and not first.tracked and not first.limited
    assert limits.usage_of([integration_id])[integration_id].in_flight == 0

    # Another process's 429 sets a ceiling (the script, not this process's answered(), which would tell it at once).
    keys = limits._keys(integration_id)
    limits._scripts()[2](keys=[keys["ceiling"], keys["flight"]], args=[0, 1, 60, 8])
    assert not limits.capacity_acquire(run_id="b", deferrals=0, **unlimited).tracked  # still trusted: no round trip
    time.sleep(0.35)
    seen = limits.capacity_acquire(run_id="c", deferrals=0, **unlimited)
    assert seen.granted and seen.tracked and seen.limited  # 4 in flight at most now, and this run is one of them
    assert limits.usage_of([integration_id])[integration_id].in_flight == 1
    assert limits.usage_of([integration_id])[integration_id].ceiling == 4

    limits.capacity_finish(
        integration_id=integration_id, run_id="c", decision=seen, max_concurrency=None, rate_limited=False
    )
    usage = limits.usage_of([integration_id])[integration_id]
    assert usage.in_flight == 0 and usage.ceiling == 4  # given back, and 4 + 1/4 in one round trip


def test_a_429_on_an_uncounted_integration_starts_from_the_runs_the_database_has_running(
    db, openai_server, integrate, admin_user
):
    integration = integrate(provider_document(openai_server.url))
    model = ModelProperty.objects.get(integration=integration)
    with transaction.atomic():
        runs = [run_enqueue(model=model, user=admin_user, messages=[{"role": "user", "content": c}]) for c in "abcdef"]
    Run.objects.filter(pk__in=[run.pk for run in runs]).update(status="running")
    unlimited = {"integration_id": integration.pk, "max_concurrency": None, "requests_per_minute": None}
    decision = limits.capacity_acquire(run_id=str(runs[0].pk), deferrals=0, **unlimited)
    assert not decision.tracked

    limits.capacity_finish(
        integration_id=integration.pk,
        run_id=str(runs[0].pk),
        decision=decision,
        max_concurrency=None,
        rate_limited=True,
    )

    assert limits.usage_of([integration.pk])[integration.pk].ceiling == 3  # six running, halved
    assert limits.capacity_acquire(run_id="next", deferrals=0, **unlimited).tracked  # counted from now on
