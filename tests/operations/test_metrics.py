"""/metrics: the series a deployment's workers record (in Redis) after real runs on a real worker, who may read
them, and that no secret or prompt text is in them."""

import ipaddress

import pytest

from core.metrics_store import OTHER_INTEGRATIONS
from runners.completion import Reply as RunReply
from runners.metrics import observe_run_outcome
from runners.outcome import Outcome
from runners.transport import TransportError
from tests.fixtures.servers import Reply
from tests.fixtures.worker import wait_for_run
from tests.operations.conftest import METRICS_TOKEN, samples, scrape, scrape_until, value
from tests.runners.conftest import provider_document

PROMPT = "Describe the zanzibar pelicans quietly"
HEADER_SECRET = "hdr-secret-4f1c9e"


def test_runs_of_each_outcome_show_in_the_series(
    clean_metrics, celery_worker, openai_server, oauth2_server, integrate, enqueue, client
):
    messages = [{"role": "user", "content": PROMPT}]
    echo = integrate(provider_document(openai_server.url, headers={"X-Team-Secret": HEADER_SECRET}), name="echo")
    missing = integrate(provider_document(openai_server.url, models=["status-404"]), name="missing")
    oauth = integrate(oauth2_server.document(openai_server.url), name="tokenco")

    succeeded = wait_for_run(enqueue(echo, messages=messages).pk)
    streamed = wait_for_run(enqueue(echo, messages=messages, stream=True).pk)
    failed = wait_for_run(enqueue(missing, messages=messages).pk)
    openai_server.enqueue(Reply(status=500, body="oops"), Reply(status=502, body="bad gateway"))
    retried = wait_for_run(enqueue(echo, messages=messages).pk, timeout=20)
    with_token = wait_for_run(enqueue(oauth, messages=messages).pk)
    assert [succeeded.status, streamed.status, failed.status, retried.status, with_token.status] == [
        "succeeded",
        "succeeded",
        "failed",
        "succeeded",
        "succeeded",
    ]
    assert (failed.error_type, retried.attempts) == ("model_not_found", 3)

    found = scrape_until(client, lambda s: value(s, "integrations_runs_total", status="succeeded", error_type="") == 4)
    assert value(found, "integrations_runs_total", status="failed", error_type="model_not_found") == 1
    assert value(found, "integrations_run_retries_total", error_type="provider_error") == 2
    assert value(found, "integrations_provider_latency_seconds_count") == 4
    assert value(found, "integrations_provider_latency_seconds_bucket", le="+Inf") == 4
    assert value(found, "integrations_time_to_first_token_seconds_count") == 1
    assert 0 < value(found, "integrations_time_to_first_token_seconds_sum") < 5
    usages = [run.usage or {} for run in (succeeded, streamed, retried, with_token)]
    prompt_tokens = sum(usage.get("prompt_tokens", 0) for usage in usages)
    assert prompt_tokens > 0
    assert value(found, "integrations_prompt_tokens_total") == prompt_tokens
    assert value(found, "integrations_completion_tokens_total") == sum(u.get("completion_tokens", 0) for u in usages)
    assert value(found, "integrations_oauth2_token_requests_total", outcome="ok") == 1
    assert value(found, "integrations_queue_depth", queue=celery_worker.app.conf.task_default_queue) == 0
    assert value(found, "integrations_broker_up") == 1

    text = scrape(client)
    secrets = [
        "sk-test-ABC123xyz",
        HEADER_SECRET,
        oauth2_server.client_secret,
        *oauth2_server.issued_tokens,
        METRICS_TOKEN,
    ]
    words = [*PROMPT.lower().split(), *succeeded.output.lower().split(), "echo", "missing", "tokenco", "status-404"]
    assert [secret for secret in secrets if secret in text] == []
    assert [word for word in set(words) if len(word) > 3 and word in text.lower()] == []


def test_a_token_endpoint_failure_is_counted_by_outcome(
    clean_metrics, celery_worker, openai_server, oauth2_server, integrate, enqueue, client
):
    # invalid_client twice: the runner tries client_secret_post, then client_secret_basic once (runners.auth).
    oauth2_server.enqueue(*[Reply(status=401, json={"error": "invalid_client"})] * 2)
    run = wait_for_run(enqueue(integrate(oauth2_server.document(openai_server.url))).pk)

    assert run.error_type == "token_endpoint_error"
    # The worker sends its counts once a second: the token requests and the run may arrive in two sends.
    found = scrape_until(
        client,
        lambda s: (
            value(s, "integrations_oauth2_token_requests_total", outcome="http_error") == 2
            and value(s, "integrations_runs_total", status="failed", error_type="token_endpoint_error") is not None
        ),
    )
    assert value(found, "integrations_runs_total", status="failed", error_type="token_endpoint_error") == 1
    assert value(found, "integrations_oauth2_token_requests_total", outcome="http_error") == 2


def _outcome(error_type=None) -> Outcome:
    if error_type:
        error = TransportError("x", permanent=True, error_type="provider_error")
        error.error_type = error_type  # any string: TransportError itself accepts FailureKinds only
        return Outcome(request=None, error=error)
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    return Outcome(request=None, reply=RunReply("ok", "stop", usage, {}), latency_ms=120.0)


def test_integration_names_are_labels_only_when_the_operator_opts_in_and_capped(clean_metrics, settings, client):
    observe_run_outcome(outcome=_outcome(), integration_name="acme-gateway")
    found = samples(scrape(client))
    assert value(found, "integrations_runs_total", status="succeeded", error_type="") == 1
    assert "acme-gateway" not in scrape(client)

    settings.METRICS_INTEGRATION_LABELS = True
    settings.METRICS_INTEGRATION_LABELS_MAX = 2
    for name in ("acme-gateway", "beta", "gamma", "delta", "beta"):
        observe_run_outcome(outcome=_outcome("rate_limited"), integration_name=name)
    found = samples(scrape(client))

    def failed(integration):
        return value(
            found, "integrations_runs_total", status="failed", error_type="rate_limited", integration=integration
        )

    assert [failed("acme-gateway"), failed("beta"), failed(OTHER_INTEGRATIONS)] == [1, 2, 2]
    # Recorded before the opt-in: kept, without a name.
    assert value(found, "integrations_runs_total", status="succeeded", error_type="", integration="") == 1
    assert value(found, "integrations_provider_latency_seconds_count", integration="acme-gateway") is None

    settings.METRICS_INTEGRATION_LABELS = False
    found = samples(scrape(client))
    assert value(found, "integrations_runs_total", status="failed", error_type="rate_limited") == 5


def test_an_unknown_error_type_cannot_grow_the_label_set(clean_metrics, client):
    observe_run_outcome(outcome=_outcome("Not A Known Type: sk-123"), integration_name="x")
    found = samples(scrape(client))
    assert value(found, "integrations_runs_total", status="failed", error_type="other") == 1


@pytest.mark.parametrize(
    ("debug", "token", "networks", "remote", "authorization", "status"),
    [
        (False, None, [], "127.0.0.1", "", 404),  # production, neither set: off
        (True, None, [], "127.0.0.1", "", 200),  # debug: loopback only
        (True, None, [], "10.0.0.5", "", 404),
        (False, "s3cret-token", [], "203.0.113.9", "", 401),
        (False, "s3cret-token", [], "203.0.113.9", "Bearer wrong", 401),
        (False, "s3cret-token", [], "203.0.113.9", "Bearer s3cret-token", 200),
        (False, None, ["10.0.0.0/8"], "10.1.2.3", "", 200),
        (False, None, ["10.0.0.0/8"], "192.168.1.1", "", 403),
        (False, "s3cret-token", ["10.0.0.0/8"], "10.1.2.3", "", 401),  # both set: both needed
        (False, "s3cret-token", ["10.0.0.0/8"], "192.168.1.1", "Bearer s3cret-token", 403),
        (False, "s3cret-token", ["10.0.0.0/8"], "10.1.2.3", "Bearer s3cret-token", 200),
    ],
)
def test_who_may_read_the_metrics(settings, client, debug, token, networks, remote, authorization, status):
    settings.DEBUG = debug
    settings.METRICS_TOKEN = token
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network(n) for n in networks]
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    # A scrape comes by address, over plain HTTP, even where production settings redirect and check hosts.
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/metrics", REMOTE_ADDR=remote, HTTP_HOST="10.9.8.7:8000", **headers)

    assert response.status_code == status
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")
    if status == 200:
        assert b"integrations_runs_total" in response.content or b"# HELP integrations_runs" in response.content
    else:
        assert response.content == b""
