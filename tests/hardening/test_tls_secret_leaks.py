"""Secret leak scan for the `tls` key: the client's private key, planted in a document, never appears in clear.

Exercised through the API and a real Celery worker on Redis: a save, runs that succeed over mutual TLS against a
server on 127.0.0.1, a run refused by the server's CA check, a run whose client certificate the server does not
trust, and saves refused for a damaged or mismatched key. Scanned: every API read and answer (the definition
endpoint, whose job is to return the key, is checked to do so), the Settings and editor pages, every Run field, the
raw integration rows, and every log record of this process (DEBUG, all loggers; the worker runs in it).
"""

import json
import logging

import trustme
from django.db import connection
from django.test import Client

from runners.models import Run
from tests.api.conftest import client_for
from tests.fixtures.certificates import client_leaf, key_lines, pem_text, tls_key
from tests.fixtures.servers import server_tls
from tests.fixtures.worker import wait_for_run
from tests.runners.conftest import provider_document


class Scan:
    def __init__(self, secrets: list[str]) -> None:
        self.secrets = secrets
        self.places = 0
        self.leaks: list[str] = []

    def check(self, where: str, content) -> None:
        if isinstance(content, bytes):
            content = content.decode("utf-8", "replace")
        elif not isinstance(content, str):
            content = json.dumps(content, default=str)
        content = content.replace("\\n", "\n")
        self.places += 1
        self.leaks += [f"{secret[:12]}… in {where}" for secret in self.secrets if secret in content]


def put(api, name: str, document: dict):
    return api.put(f"/api/v2/integrations/custom/{name}", json.dumps(document), content_type="application/json")


def test_the_client_key_appears_nowhere_in_clear(celery_worker, https_servers, admin_user, caplog):
    caplog.set_level(logging.DEBUG)
    server_ca, client_ca = trustme.CA(), trustme.CA()
    client = client_leaf(client_ca)
    stranger = client_leaf(trustme.CA(), "stranger@example.test")
    scan = Scan([*key_lines(client), *key_lines(stranger)])
    mtls = https_servers.openai(server_tls(server_ca, client_ca=client_ca))
    api = client_for(admin_user)

    documents = {
        "good": provider_document(mtls.url, models=("good-model",), tls=tls_key(ca=server_ca, client=client)),
        "no-ca": provider_document(mtls.url, models=("no-ca-model",), tls=tls_key(client=client)),
        "stranger": provider_document(mtls.url, models=("stranger-model",), tls=tls_key(ca=server_ca, client=stranger)),
    }
    for name, document in documents.items():
        response = put(api, name, document)
        assert response.status_code == 200, response.content
        scan.check(f"PUT {name}", response.content)
    mismatched = {**documents["good"]["tls"], "client_key": pem_text(stranger.private_key_pem)}
    damaged = {**documents["good"]["tls"], "client_key": pem_text(client.private_key_pem).replace("\n", "\n#", 3)}
    for name, tls in (("mismatched", mismatched), ("damaged", damaged)):
        response = put(api, name, {**documents["good"], "model_properties": [{"name": f"{name}-model"}], "tls": tls})
        assert response.status_code == 422
        scan.check(f"PUT {name} (refused)", response.content)

    runs = {}
    for name, document in documents.items():
        alias = document["model_properties"][0]["name"]
        messages = [{"role": "user", "content": "hello"}]
        response = api.post("/api/v2/runs", {"integration": name, "model": alias, "messages": messages}, format="json")
        assert response.status_code == 202, response.content
        runs[name] = wait_for_run(response.json()["id"], timeout=20)
    assert runs["good"].status == "succeeded", runs["good"].error
    assert runs["no-ca"].error_type == "tls_error" and runs["stranger"].error_type == "tls_error"
    assert mtls.completion_requests[0].client_certificate == "runner@example.test"

    for name, run in runs.items():
        scan.check(f"GET run {name}", api.get(f"/api/v2/runs/{run.pk}").content)
        scan.check(f"Run row {name}", Run.objects.filter(pk=run.pk).values().get())
        scan.check(f"GET integration {name}", api.get(f"/api/v2/integrations/custom/{name}").content)
    scan.check("GET runs", api.get("/api/v2/runs").content)
    scan.check("GET integrations", api.get("/api/v2/integrations").content)
    browser = Client()
    browser.force_login(admin_user)
    scan.check("settings page", browser.get("/settings/integrations").content)
    scan.check("editor page", browser.get("/settings/integrations/custom/good/edit").content)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM integrations_integration")
        scan.check("integration rows", repr(cursor.fetchall()))
    scan.check("logs", "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records))

    assert scan.leaks == []
    assert scan.places == 20
    definition = api.get("/api/v2/integrations/custom/good/definition").json()
    assert definition["tls"]["client_key"] == pem_text(client.private_key_pem)
