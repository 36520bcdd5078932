"""Fixtures for the evaluation tests: integrations on the test provider, a judge provider, datasets, clients."""

import json
import time
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from evaluations.models import Evaluation
from evaluations.selectors import evaluation_progress
from evaluations.services.datasets import dataset_create
from evaluations.services.metrics import metric_create
from runners.models import Run
from runners.signals import run_finished
from tests.factories import make_integration
from tests.fixtures.servers import OpenAIServer, Reply

OUTPUT_MODELS = ("model-a", "model-b")
JUDGE_MODEL = "judge-1"
RUN_ID_HEADER = "X-Run-Id"


def provider_document(endpoint: str, *, models, aliases=None) -> dict:
    """A custom integration on a test server; every request carries its run id (to prove which runs were executed)."""
    aliases = aliases or models
    return {
        "authentication_type": "api_key",
        "api_key_header": "x-api-key",
        "api_key_value": "sk-eval-test",
        "model_properties": [
            {"name": name, "alias": alias, "supported_parameters": ["max_tokens", "temperature"]}
            for name, alias in zip(models, aliases, strict=True)
        ],
        "custom_header_mapping": {"run_id": RUN_ID_HEADER},
        "endpoint": endpoint,
    }


def judge_reply(score, reason="Looks right.", *, content=None) -> Reply:
    """A chat completion whose answer is the judge's JSON verdict (or any `content`)."""
    text = content if content is not None else json.dumps({"score": score, "reason": reason})
    return Reply(
        json={
            "id": f"chatcmpl-{uuid.uuid4().hex[:8]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": JUDGE_MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }
    )


def csv_text(rows: int) -> str:
    lines = ["question,expected"]
    lines += [f"What is {n} plus {n}?,{2 * n}" for n in range(1, rows + 1)]
    return "\n".join(lines) + "\n"


@pytest.fixture(autouse=True)
def fast_settings(settings):
    settings.RUNNERS_BACKOFF_BASE = 0.01
    settings.RUNNERS_BACKOFF_MAX = 0.05
    settings.RUNNERS_REQUEST_TIMEOUT = 10
    settings.EVALUATIONS_SUMMARY_MAX_AGE = 0  # every read sees the summary of what is counted
    return settings


@pytest.fixture(scope="session")
def _judge_server_session():
    server = OpenAIServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def judge_server(_judge_server_session):
    """A second test provider that only the judge model talks to, so scripted answers reach judges only."""
    _judge_server_session.reset()
    yield _judge_server_session
    _judge_server_session.reset()


@pytest.fixture
def provider(org, admin_user, openai_server):
    """The integration "provider" with models model-a and model-b on the shared test provider."""
    return make_integration(
        organization=org,
        user=admin_user,
        name="provider",
        document=provider_document(openai_server.url, models=OUTPUT_MODELS),
    )


@pytest.fixture
def judge_integration(org, admin_user, judge_server):
    return make_integration(
        organization=org,
        user=admin_user,
        name="judges",
        document=provider_document(judge_server.url, models=(JUDGE_MODEL,), aliases=("Judge",)),
    )


@pytest.fixture
def make_dataset(org, admin_user):
    def make(rows: int = 3, *, text: str | None = None, user=None, name="Sums"):
        return dataset_create(
            organization=org, user=user or admin_user, name=name, text=text or csv_text(rows), format="csv"
        )

    return make


@pytest.fixture
def make_metric(org, admin_user):
    def make(*, judges: int = 1, name: str = "Correctness", prompt: str | None = None):
        return metric_create(
            organization=org,
            user=admin_user,
            name=name,
            judge_model="Judge",
            judges=judges,
            prompt=prompt or "Question: {{input}}\nAnswer: {{output}}\nReference: {{expected}}\nScore it.",
        )

    return make


def wait_for_evaluation(evaluation: Evaluation, *, timeout: float = 60, on_poll=None) -> Evaluation:
    """Poll (as the page does, reading only) until the workers have finished it; on_poll(progress) sees every state."""
    deadline = time.monotonic() + timeout
    while True:
        evaluation.refresh_from_db()
        progress = evaluation_progress(evaluation=evaluation)
        if on_poll:
            on_poll(progress)
        if evaluation.finished_at:
            return evaluation
        if time.monotonic() > deadline:
            raise AssertionError(f"evaluation still running after {timeout} s: {progress.as_dict()}")
        time.sleep(0.05)


def finish(runs, *, output="fine", status="succeeded", latency=100.0, announce=True, finish_reason="stop"):
    """Store an outcome on each run as a worker does, and (unless announce=False) send run_finished as it does."""
    now = timezone.now()
    Run.objects.filter(pk__in=[run.pk for run in runs]).update(
        status=status,
        output=output if status == "succeeded" else None,
        finish_reason=finish_reason if status == "succeeded" else None,
        error_type=None if status == "succeeded" else "provider_error",
        error_message=None if status == "succeeded" else "HTTP 500",
        latency_ms=latency,
        usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        started_at=now,
        finished_at=now,
    )
    if announce:
        for run in runs:
            job_id = Run.objects.values_list("job_id", flat=True).get(pk=run.pk)
            run_finished.send(sender=Run, run_id=str(run.pk), status=status, job_id=str(job_id) if job_id else None)


def logged_in(user, *, enforce_csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    client.force_login(user)
    return client
