"""An evaluation whose creation message was lost is not left `creating` forever: the reaper sends it again, and its
runs are made once however often the message arrives (real worker, real Redis)."""

import time

import pytest

from evaluations.models import EvaluationResult
from evaluations.selectors import evaluation_progress
from evaluations.services import lifecycle
from evaluations.services.lifecycle import evaluation_create, evaluations_creation_resume
from evaluations.tasks import create_evaluation_runs
from runners.models import Run
from runners.reaper import reap_pass
from tests.evaluations.conftest import wait_for_evaluation

PROMPT = [{"role": "user", "content": "Answer briefly: {{question}}"}]


def test_an_evaluation_whose_creation_message_was_lost_is_made_once_after_a_reaper_pass(
    monkeypatch, settings, celery_worker, openai_server, org, admin_user, provider, make_dataset
):
    monkeypatch.setattr(lifecycle, "INLINE_RUNS_MAX", 10)  # 30 runs: made by a worker
    dropped = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lifecycle, "_schedule_runs_create", dropped.append)  # the message never reaches the broker
        evaluation = evaluation_create(
            organization=org,
            user=admin_user,
            name="Lost",
            dataset=make_dataset(15).uuid,
            messages=PROMPT,
            models=[{"model": "model-a"}, {"model": "model-b"}],
        )
    assert dropped == [str(evaluation.pk)]
    time.sleep(1)
    evaluation.refresh_from_db()
    assert evaluation.status == "creating" and not Run.objects.filter(job=evaluation.job).exists()
    # Younger than the bound: not lost yet, nothing is sent.
    assert evaluations_creation_resume(older_than=3600) == 0

    settings.EVALUATIONS_CREATING_LOST_AFTER_SECONDS = 2
    time.sleep(1.1)  # now older than that
    reap_pass()  # the worker's periodic pass: runners' steps, then evaluations' reaper_pass receiver
    assert evaluations_creation_resume() == 0  # sent once per period, not at every pass
    wait_for_evaluation(evaluation, timeout=60)

    # A late copy of the lost message and more reaper passes make nothing more.
    create_evaluation_runs.delay(str(evaluation.pk))
    time.sleep(2.1)  # past the period of the first resend
    assert evaluations_creation_resume() == 0  # it has its runs: no longer creating
    reap_pass()
    time.sleep(1)  # the late copy has long been taken by the worker (it took 15 ms above)
    assert Run.objects.filter(job=evaluation.job).count() == 30
    assert EvaluationResult.objects.filter(evaluation=evaluation).count() == 30
    progress = evaluation_progress(evaluation=evaluation)
    assert (progress.status, progress.done, progress.total) == ("completed", 30, 30)
