"""Secret leak scan: distinctive secrets planted in every secret field never appear in clear anywhere else.

Planted: api_key_value, the OAuth2 client_secret inside `token`, every `headers` value, and the access tokens the
test token server issues. Exercised: runs that succeed, fail on a 5xx whose body echoes the request's credentials,
have their credentials rejected by a provider quoting them, and fail at a token endpoint quoting the client secret;
a Playground run and an integration test. Scanned: the task message in Redis before a worker takes it and the
broker's unacked hash while it runs, every page, admin page and API read, every Run field, the raw integration rows,
the OAuth2 token cache entries, every log record of the web process (DEBUG, all loggers) and the worker process's
output. The only place the secrets may appear is the definition endpoint, whose job is to return them (checked too).
"""

import json
import logging
import time

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from integrations.models import Integration
from runners.models import TERMINAL_STATUSES, Job, Run
from tests.api.conftest import client_for
from tests.fixtures.servers import Reply
from tests.fixtures.worker import TEST_QUEUE, wait_for_run
from tests.runners.conftest import provider_document

API_KEY = "LEAKCANARY-apikey-51d2e8"
CLIENT_SECRET = "LEAKCANARY-clientsecret-c97a"
KEY_HEADERS = {"X-Canary-One": "LEAKCANARY-header-a7f1", "X-Canary-Two": "LEAKCANARY-header-b8e2"}
OAUTH_HEADERS = {"X-Canary-Three": "LEAKCANARY-header-d0c3"}
WORKER_ENV = {
    "LOG_LEVEL": "DEBUG",
    "RUNNERS_MAX_RETRIES": "1",
    "RUNNERS_BACKOFF_BASE": "0",
    "RUNNERS_RETRY_AFTER_MAX": "0",
}


class Scan:
    def __init__(self) -> None:
        self.secrets = [API_KEY, CLIENT_SECRET, *KEY_HEADERS.values(), *OAUTH_HEADERS.values()]
        self.places = 0
        self.leaks: list[str] = []

    def check(self, where: str, content) -> None:
        if isinstance(content, bytes):
            content = content.decode("utf-8", "replace")
        elif not isinstance(content, str):
            content = json.dumps(content, default=str)
        self.places += 1
        self.leaks += [f"{secret} in {where}" for secret in self.secrets if secret in content]


@pytest.fixture
def broker():
    return redis.Redis.from_url(django_settings.REDIS_URL)


def documents(openai_server, oauth2_server):
    keyed = provider_document(openai_server.url, models=["echo-model", "status-401"], headers=KEY_HEADERS)
    keyed["api_key_value"] = API_KEY
    token = json.dumps({"client_id": "canary-client", "client_secret": CLIENT_SECRET})
    oauth = oauth2_server.document(openai_server.url, token=token, headers=OAUTH_HEADERS)
    oauth["model_properties"] = [{"name": "echo-model", "alias": "oauth-echo", "supported_parameters": []}]
    # Another scope, so another cached token: its token request is the one that fails.
    token_fails = {**oauth, "authentication_scope": "admin"}
    token_fails["model_properties"] = [{"name": "echo-model", "alias": "token-fails-echo", "supported_parameters": []}]
    return {"canary-key": keyed, "canary-oauth": oauth, "canary-token-fails": token_fails}


@pytest.mark.slow
def test_planted_secrets_appear_nowhere_in_clear(
    celery_worker_process, openai_server, oauth2_server, admin_user, member_user, broker, caplog
):
    caplog.set_level(logging.DEBUG)
    scan = Scan()
    oauth2_server.add_client("canary-client", CLIENT_SECRET, scopes=("inference", "admin"))
    api = client_for(admin_user)
    for name, document in documents(openai_server, oauth2_server).items():
        answer = api.put(f"/api/v2/integrations/custom/{name}", document, format="json")
        assert answer.status_code == 200, answer.content
        scan.check(f"PUT {name} answer", answer.content)

    def start_run(integration, model="echo-model") -> str:
        body = {"integration": integration, "model": model, "messages": [{"role": "user", "content": "Hello"}]}
        answer = api.post("/api/v2/runs", body, format="json")
        assert answer.status_code == 202, answer.content
        scan.check("POST /api/v2/runs answer", answer.content)
        return answer.json()["id"]

    # The task message in Redis before any worker takes it.
    first = start_run("canary-key")
    queued = broker.lrange(TEST_QUEUE, 0, -1)
    assert any(first.encode() in message for message in queued)
    scan.check("queued task messages", b"\n".join(queued))

    openai_server.latency = 1.0  # the first run stays in flight while the unacked hash is read
    worker = celery_worker_process(env=WORKER_ENV, concurrency=4)
    deadline = time.monotonic() + 10
    while not any(first.encode() in value for value in broker.hvals("unacked")):
        assert time.monotonic() < deadline, "the running task never showed in the unacked hash"
        time.sleep(0.02)
    scan.check("unacked task messages", b"\n".join(broker.hvals("unacked")))
    wait_for_run(first, timeout=20)
    openai_server.latency = 0

    echoed = f"upstream saw x-portkey-api-key: {API_KEY}; " + "; ".join(f"{k}: {v}" for k, v in KEY_HEADERS.items())
    openai_server.enqueue(*[Reply(status=500, json={"error": {"message": echoed}})] * 2)
    run_ids = [first, start_run("canary-key")]
    wait_for_run(run_ids[-1], timeout=20)
    openai_server.enqueue(Reply(status=401, json={"error": {"message": f"Incorrect API key provided: {API_KEY}"}}))
    run_ids.append(start_run("canary-key"))
    wait_for_run(run_ids[-1], timeout=20)

    run_ids.append(start_run("canary-oauth", "oauth-echo"))
    assert wait_for_run(run_ids[-1], timeout=20).status == "succeeded"
    scan.secrets += oauth2_server.issued_tokens
    token = oauth2_server.issued_tokens[-1]
    echoed = (
        f"bad request, headers were Authorization: Bearer {token}, x-canary-three: {OAUTH_HEADERS['X-Canary-Three']}"
    )
    openai_server.enqueue(*[Reply(status=503, json={"error": {"message": echoed}})] * 2)
    run_ids.append(start_run("canary-oauth", "oauth-echo"))
    wait_for_run(run_ids[-1], timeout=20)
    openai_server.enqueue(*[Reply(status=401, json={"error": {"message": f"token {token} was revoked"}})] * 2)
    run_ids.append(start_run("canary-oauth", "oauth-echo"))
    assert wait_for_run(run_ids[-1], timeout=20).error_type == "auth_rejected"
    description = f"client_secret {CLIENT_SECRET} does not match"
    # Twice: after an invalid_client the runner tries the other client authentication method once.
    oauth2_server.enqueue(*[Reply(status=401, json={"error": "invalid_client", "error_description": description})] * 2)
    run_ids.append(start_run("canary-token-fails", "token-fails-echo"))
    assert wait_for_run(run_ids[-1], timeout=20).error_type == "token_endpoint_error"
    scan.secrets += oauth2_server.issued_tokens

    # The browser's ways to start runs: the Playground and an integration's Test button.
    browser = Client()
    browser.force_login(admin_user)
    columns = [{"model": "echo-model", "parameters": {}}]
    answer = browser.post(
        "/playground/runs",
        json.dumps({"messages": [{"role": "user", "content": "Hi"}], "columns": columns}),
        content_type="application/json",
    )
    assert answer.status_code == 202, answer.content
    playground_job = answer.json()["job"]
    test_page = browser.post("/settings/integrations/custom/canary-oauth/test")
    assert test_page.status_code == 302
    deadline = time.monotonic() + 20
    while Run.objects.exclude(status__in=TERMINAL_STATUSES).exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    scan.secrets += oauth2_server.issued_tokens
    scan.secrets = list(dict.fromkeys(scan.secrets))

    # The provider and the token server did receive every secret (the scan is not vacuous).
    received = json.dumps([r.headers for r in openai_server.completion_requests])
    assert all(s in received for s in [API_KEY, *KEY_HEADERS.values(), *OAUTH_HEADERS.values(), token])

    runs = list(Run.objects.all())
    jobs = list(Job.objects.all())
    assert len(runs) >= 9
    pages = [
        "/settings/integrations",
        "/settings/integrations/custom/new",
        "/playground",
        "/evaluations",
        "/evaluations/new",
        "/evaluations/datasets",
        "/evaluations/metrics",
        f"/playground/jobs/{playground_job}",
        test_page["Location"],
        test_page["Location"] + "?partial=1",
    ]
    pages += [f"/settings/integrations/custom/{name}/edit" for name in documents(openai_server, oauth2_server)]
    pages += [f"/playground/runs/{run.pk}" for run in runs]
    pages += [f"/playground/jobs/{job.pk}" for job in jobs]
    for page in pages:
        answer = browser.get(page)
        assert answer.status_code == 200, (page, answer.status_code)
        scan.check(page, answer.content)

    # The admin, as a superuser.
    root = get_user_model().objects.create_superuser("root", "root@example.com", "root-password-1")
    staff = Client()
    staff.force_login(root)
    admin_pages = ["/admin/", "/admin/integrations/integration/", "/admin/runners/run/", "/admin/runners/job/"]
    admin_pages += [f"/admin/integrations/integration/{i.pk}/change/" for i in Integration.objects.all()]
    admin_pages += [f"/admin/runners/run/{run.pk}/change/" for run in runs]
    admin_pages += [f"/admin/runners/job/{job.pk}/change/" for job in jobs]
    for page in admin_pages:
        answer = staff.get(page)
        assert answer.status_code == 200, (page, answer.status_code)
        scan.check(page, answer.content)

    # Every API read, as an admin and as a member.
    reads = ["/api/v2/integrations", "/api/v2/llm_integrations", "/api/v2/schema", "/api/v2/docs"]
    reads += ["/api/v2/datasets", "/api/v2/metrics", "/api/v2/evaluations"]
    reads += [f"/api/v2/integrations/custom/{name}" for name in documents(openai_server, oauth2_server)]
    reads += [f"/api/v2/runs/{run.pk}" for run in runs]
    for reader in (api, client_for(member_user)):
        for read in reads:
            answer = reader.get(read)
            assert answer.status_code == 200, (read, answer.status_code)
            scan.check(f"GET {read}", answer.content)
    # The one read whose job is to return the secrets: admins only, and it does return them.
    definition = api.get("/api/v2/integrations/custom/canary-key/definition")
    assert definition.status_code == 200 and API_KEY in definition.content.decode()
    assert client_for(member_user).get("/api/v2/integrations/custom/canary-key/definition").status_code == 403

    # Records: every Run field, the raw integration rows (secrets encrypted at rest), the token cache.
    for run in Run.objects.values():
        scan.check(f"run {run['id']}", run)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Integration._meta.db_table}")
        scan.check("integration rows", cursor.fetchall())
    token_entries = [key for key in broker.keys("*runners:oauth2:*") if not key.endswith((b":lock", b":failure"))]
    assert token_entries, "no cached OAuth2 token to check"
    for key in broker.keys("*runners:*"):
        value = broker.get(key) if broker.type(key) == b"string" else b""
        scan.check(f"cache {key!r}", value)

    # Logs: every record of this (web) process at DEBUG, and the worker's whole output.
    records = [f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records]
    scan.check("web process log records", "\n".join(records))
    assert "runners.execute_run" in worker.log()
    scan.check("worker output", worker.log())

    print(f"\nsecret leak scan: {len(scan.secrets)} secrets, {scan.places} places scanned, {len(runs)} runs")
    assert scan.leaks == []
