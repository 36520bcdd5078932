"""The document's `tls` key: validated with paths at save, client_key kept like every secret."""

import datetime
import json

import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from django.db import connection

from core.problems import Invalid
from integrations.models import Integration
from integrations.services import integration_document, integration_upsert
from integrations.tls import certificate_summaries
from tests.factories import api_key_document
from tests.fixtures.certificates import client_leaf, key_lines, now, pem_text, tls_key


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def client(ca):
    return client_leaf(ca)


def save(org, tls, name="secure"):
    return integration_upsert(organization=org, user=None, name=name, document=api_key_document(tls=tls))


def problems(org, tls) -> dict:
    with pytest.raises(Invalid) as caught:
        save(org, tls)
    found: dict = {}
    for problem in caught.value.errors:  # the first problem at each path
        found.setdefault(tuple(problem.loc), (problem.type, problem.message))
    return found


def test_a_valid_tls_key_is_stored_with_the_key_encrypted_and_read_back_as_the_placeholder(org, ca, client):
    integration = save(org, tls_key(ca=ca, client=client))

    document = integration_document(integration=Integration.objects.get(pk=integration.pk))
    assert document["tls"] == {
        "ca_bundle": pem_text(ca.cert_pem),
        "client_certificate": tls_key(client=client)["client_certificate"],
        "client_key": "********",
    }
    revealed = integration_document(integration=integration, reveal_secrets=True)
    assert revealed["tls"]["client_key"] == pem_text(client.private_key_pem)
    with connection.cursor() as cursor:
        cursor.execute("SELECT tls_client_key FROM integrations_integration")
        (raw,) = cursor.fetchone()
    assert all(line.encode() not in bytes(raw) for line in key_lines(client))


def test_a_put_of_the_placeholder_keeps_the_stored_key(org, ca, client):
    save(org, tls_key(ca=ca, client=client))
    read_back = integration_document(integration=Integration.objects.get(name="secure"))

    integration_upsert(organization=org, user=None, name="secure", document=read_back)

    assert Integration.objects.get(name="secure").tls_client_key == pem_text(client.private_key_pem)


def test_the_placeholder_without_a_stored_key_is_refused_with_its_path(org, client):
    tls = {**tls_key(client=client), "client_key": "********"}
    assert problems(org, tls)[("tls", "client_key")][0] == "placeholder_without_secret"


def test_removing_the_tls_key_removes_every_part_of_it(org, ca, client):
    save(org, tls_key(ca=ca, client=client))
    save(org, None)
    integration = Integration.objects.get(name="secure")
    assert (integration.tls_ca_bundle, integration.tls_client_certificate, integration.tls_client_key) == ("", "", None)
    assert "tls" not in integration_document(integration=integration)


def test_text_that_is_not_pem_is_refused_with_its_path(org):
    found = problems(org, {"ca_bundle": "my corporate CA", "client_certificate": "-----BEGIN CERTIFICATE-----\nAAA"})
    assert found[("tls", "ca_bundle")][0] == "pem_invalid"
    assert found[("tls", "client_certificate")][0] == "pem_invalid"


def test_an_expired_client_certificate_is_refused(org, ca):
    expired = client_leaf(
        ca, not_before=now() - datetime.timedelta(days=30), not_after=now() - datetime.timedelta(days=1)
    )
    kind, message = problems(org, tls_key(client=expired))[("tls", "client_certificate")]
    assert kind == "certificate_expired"
    assert "runner@example.test" in message and "expired on" in message


def test_an_expired_certificate_in_the_ca_bundle_is_refused_and_located(org):
    old = trustme.CA()
    expired_ca_pem = pem_text(old.cert_pem)
    leaf = old.issue_cert(
        "old-ca.example", not_before=now() - datetime.timedelta(days=9), not_after=now() - datetime.timedelta(days=2)
    )
    found = problems(org, {"ca_bundle": expired_ca_pem + pem_text(leaf.cert_chain_pems[0])})
    kind, message = found[("tls", "ca_bundle")]
    assert kind == "certificate_expired" and "(certificate 2)" in message


def test_a_key_that_is_not_the_certificates_is_refused(org, ca, client):
    other = client_leaf(ca, "other@example.test")
    tls = {**tls_key(client=client), "client_key": pem_text(other.private_key_pem)}
    kind, message = problems(org, tls)[("tls", "client_key")]
    assert kind == "key_mismatch"
    assert all(line not in message for line in key_lines(other))


def test_certificate_and_key_come_together(org, client):
    only_certificate = {"client_certificate": tls_key(client=client)["client_certificate"]}
    assert problems(org, only_certificate)[("tls", "client_key")][0] == "missing"
    only_key = {"client_key": tls_key(client=client)["client_key"]}
    assert problems(org, only_key)[("tls", "client_certificate")][0] == "missing"


def test_an_encrypted_or_damaged_key_is_refused_without_quoting_it(org, client):
    key = serialization.load_pem_private_key(client.private_key_pem.bytes(), password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode()
    tls = {**tls_key(client=client), "client_key": encrypted}
    assert problems(org, tls)[("tls", "client_key")][0] == "private_key_encrypted"

    damaged = pem_text(client.private_key_pem).replace("\n", "\nX", 2)
    kind, message = problems(org, {**tls_key(client=client), "client_key": damaged})[("tls", "client_key")]
    assert kind == "pem_invalid"
    assert all(line[:20] not in message for line in key_lines(client))


def test_an_unknown_member_is_named_with_a_suggestion(org):
    kind, message = problems(org, {"ca_bundel": "x"})[("tls", "ca_bundel")]
    assert kind == "extra_forbidden" and 'Did you mean "ca_bundle"?' in message


def test_the_api_answers_422_with_paths(admin_client, ca):
    document = api_key_document(tls={"ca_bundle": "nope", "client_key": "nope"})
    response = admin_client.put(
        "/api/v2/integrations/custom/secure", json.dumps(document), content_type="application/json"
    )
    assert response.status_code == 422
    locs = {tuple(item["loc"]) for item in response.json()["detail"]}
    assert {("body", "tls", "ca_bundle"), ("body", "tls", "client_key"), ("body", "tls", "client_certificate")} <= locs
    assert not Integration.objects.filter(name="secure").exists()


def test_summaries_give_subject_and_expiry_and_warn_30_days_ahead(ca):
    soon = client_leaf(ca, "soon@example.test", not_after=now() + datetime.timedelta(days=10))
    summaries = certificate_summaries(
        ca_bundle=pem_text(ca.cert_pem), client_certificate=tls_key(client=soon)["client_certificate"]
    )
    client_summary, ca_summary = summaries
    assert client_summary.role == "client certificate" and "CN=soon@example.test" in client_summary.subject
    assert client_summary.days_left() == 10 and client_summary.expires_soon()
    assert client_summary.days_left(now() + datetime.timedelta(days=11)) == -1
    assert not client_summary.expires_soon(now() - datetime.timedelta(days=21))
    assert ca_summary.role == "CA" and not ca_summary.expires_soon()


def test_key_rotation_re_encrypts_the_client_key(org, settings, ca, client):
    from django.core.management import call_command

    from integrations.encryption import InvalidToken

    save(org, tls_key(ca=ca, client=client))
    old_keys = settings.INTEGRATIONS_ENCRYPTION_KEYS
    settings.INTEGRATIONS_ENCRYPTION_KEYS = ["a-new-key-for-the-tls-rotation-test-4f7c2a", *old_keys]

    call_command("rotate_encryption_key")

    settings.INTEGRATIONS_ENCRYPTION_KEYS = settings.INTEGRATIONS_ENCRYPTION_KEYS[:1]
    assert Integration.objects.get(name="secure").tls_client_key == pem_text(client.private_key_pem)
    settings.INTEGRATIONS_ENCRYPTION_KEYS = old_keys
    with pytest.raises(InvalidToken):
        Integration.objects.get(name="secure").tls_client_key  # noqa: B018
