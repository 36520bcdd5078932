"""Per-integration TLS on real servers over TLS on 127.0.0.1: a private CA, client certificates (mutual TLS) for the
endpoint and the OAuth2 token URL, the words a failed handshake is reported in, and the worker's clients per TLS
configuration (bounded, never stale)."""

import asyncio
import datetime
import json

import pytest
import trustme

from integrations.services import integration_upsert
from runners.tls import TLSClients, TLSConfig, ssl_context
from tests.fixtures.certificates import client_leaf, now, tls_key
from tests.fixtures.servers import server_tls
from tests.runners.conftest import provider_document


@pytest.fixture(scope="module")
def server_ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def client_ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def client(client_ca):
    return client_leaf(client_ca, "runner@example.test")


def test_an_endpoint_signed_by_a_private_ca_is_refused_until_the_ca_is_in_the_document(
    https_servers, server_ca, integrate, enqueue, execute
):
    server = https_servers.openai(server_tls(server_ca))

    without_ca = provider_document(server.url, models=("model-a",))
    with_ca = provider_document(server.url, models=("model-b",), tls=tls_key(ca=server_ca))
    refused = execute(enqueue(integrate(without_ca, name="no-ca")))
    trusted = execute(enqueue(integrate(with_ca, name="with-ca")))

    assert refused.status == "failed" and refused.error_type == "tls_error"
    assert "not signed by a CA the runners trust" in refused.error["message"]
    assert '"tls": {"ca_bundle": "..."}' in refused.error["message"]
    assert trusted.status == "succeeded", trusted.error
    assert trusted.output == "echo: Hello there"
    (arrived,) = server.completion_requests  # the refused run never got past the handshake
    assert arrived.headers["x-portkey-api-key"] == "sk-test-ABC123xyz"


def test_the_ca_bundle_is_trusted_in_addition_to_the_default_cas(server_ca):
    context = ssl_context(TLSConfig(ca_bundle=server_ca.cert_pem.bytes().decode()))
    issuers = [dict(rdn for rdns in cert["subject"] for rdn in rdns) for cert in context.get_ca_certs()]
    assert any(issuer.get("organizationName", "").startswith("trustme") for issuer in issuers)
    assert len(issuers) > 50  # certifi's public CAs are still there


def test_a_client_certificate_is_presented_to_an_endpoint_that_requires_one(
    https_servers, server_ca, client_ca, client, integrate, enqueue, execute
):
    server = https_servers.openai(server_tls(server_ca, client_ca=client_ca))

    run = execute(enqueue(integrate(provider_document(server.url, tls=tls_key(ca=server_ca, client=client)))))

    assert run.status == "succeeded", run.error
    (arrived,) = server.completion_requests
    assert arrived.client_certificate == "runner@example.test"


def test_a_streamed_run_presents_the_same_client_certificate(
    https_servers, server_ca, client_ca, client, integrate, enqueue, execute
):
    # LiteLLM #10717, #14396: one request path got the custom CA or client certificate, another did not.
    server = https_servers.openai(server_tls(server_ca, client_ca=client_ca))

    run = execute(
        enqueue(integrate(provider_document(server.url, tls=tls_key(ca=server_ca, client=client))), stream=True)
    )

    assert run.status == "succeeded", run.error
    assert run.output == "echo: Hello there"
    (arrived,) = server.completion_requests
    assert arrived.json["stream"] is True and arrived.client_certificate == "runner@example.test"


def test_tls_settings_configure_the_connection_never_the_request(
    https_servers, server_ca, client_ca, client, integrate, enqueue, execute
):
    # LiteLLM #19616, #38178: ssl_verify for OpenAI-compatible endpoints went into the JSON body instead of TLS.
    server = https_servers.openai(server_tls(server_ca, client_ca=client_ca))

    run = execute(enqueue(integrate(provider_document(server.url, tls=tls_key(ca=server_ca, client=client)))))

    (arrived,) = server.completion_requests
    assert set(arrived.json) == {"model", "messages"}
    assert "tls" not in run.request and "BEGIN" not in json.dumps(run.request)
    assert not any("certificate" in name or "tls" in name for name in arrived.headers)


def test_a_client_certificate_from_an_intermediate_ca_is_sent_with_its_chain(
    https_servers, server_ca, client_ca, integrate, enqueue, execute
):
    # The server trusts the root only: the intermediate in client_certificate must go out with the leaf.
    intermediate = client_ca.create_child_ca()
    server = https_servers.openai(server_tls(server_ca, client_ca=client_ca))
    leaf = client_leaf(intermediate, "via-intermediate@example.test")
    assert len(leaf.cert_chain_pems) == 2

    run = execute(enqueue(integrate(provider_document(server.url, tls=tls_key(ca=server_ca, client=leaf)))))

    assert run.status == "succeeded", run.error
    assert server.completion_requests[0].client_certificate == "via-intermediate@example.test"


def test_pem_text_as_tools_export_it_is_accepted(
    https_servers, server_ca, client_ca, client, integrate, enqueue, execute
):
    # openssl pkcs12 writes "Bag Attributes" before each block; Windows tools write CRLF line ends.
    server = https_servers.openai(server_tls(server_ca, client_ca=client_ca))
    tls = tls_key(ca=server_ca, client=client)
    exported = {
        key: ("Bag Attributes\n    friendlyName: exported\n" + value).replace("\n", "\r\n")
        for key, value in tls.items()
    }

    run = execute(enqueue(integrate(provider_document(server.url, tls=exported))))

    assert run.status == "succeeded", run.error


def test_without_a_client_certificate_the_run_says_one_is_required(
    https_servers, server_ca, client_ca, integrate, enqueue, execute
):
    server = https_servers.openai(server_tls(server_ca, client_ca=client_ca))

    run = execute(enqueue(integrate(provider_document(server.url, tls=tls_key(ca=server_ca)))))

    assert run.status == "failed" and run.error_type == "tls_error"
    assert "requires a client certificate" in run.error["message"]
    assert '"client_certificate": "...", "client_key": "..."' in run.error["message"]
    assert len(run.attempt_log) == 1  # permanent: not retried
    assert server.completion_requests == []


def test_a_client_certificate_from_another_ca_is_reported_as_refused(
    https_servers, server_ca, client_ca, integrate, enqueue, execute
):
    server = https_servers.openai(server_tls(server_ca, client_ca=client_ca))
    stranger = client_leaf(trustme.CA(), "stranger@example.test")

    run = execute(enqueue(integrate(provider_document(server.url, tls=tls_key(ca=server_ca, client=stranger)))))

    assert run.status == "failed" and run.error_type == "tls_error"
    assert "does not trust the issuer of the client certificate" in run.error["message"]
    assert "tls.client_certificate" in run.error["message"]
    assert server.completion_requests == []


def test_a_certificate_for_another_name_is_reported_as_a_name_mismatch(
    https_servers, server_ca, integrate, enqueue, execute
):
    server = https_servers.openai(server_tls(server_ca, names=("gateway.internal.example",)))

    run = execute(enqueue(integrate(provider_document(server.url, tls=tls_key(ca=server_ca)))))

    assert run.error_type == "tls_error"
    assert 'is not issued for the name "127.0.0.1"' in run.error["message"]
    assert "host name the certificate lists" in run.error["message"]


def test_an_expired_server_certificate_is_reported_as_expired(https_servers, server_ca, integrate, enqueue, execute):
    expired = server_tls(server_ca, not_after=now() - datetime.timedelta(days=1))  # trustme backdates not_before
    server = https_servers.openai(expired)

    run = execute(enqueue(integrate(provider_document(server.url, tls=tls_key(ca=server_ca)))))

    assert run.error_type == "tls_error"
    assert "has expired" in run.error["message"] and "must renew it" in run.error["message"]


def test_plain_http_on_an_https_url_says_so(openai_server, integrate, enqueue, execute):
    url = openai_server.url.replace("http://", "https://")

    run = execute(enqueue(integrate(provider_document(url))))

    assert run.error_type == "tls_error"
    assert "does not speak TLS on this port" in run.error["message"]


def test_the_oauth2_token_url_gets_the_same_trust_and_client_certificate(
    https_servers, server_ca, client_ca, client, integrate, enqueue, execute
):
    tls = server_tls(server_ca, client_ca=client_ca)
    token_server = https_servers.oauth2(server_tls(server_ca, client_ca=client_ca))
    server = https_servers.openai(tls)
    server.require_oauth2(token_server)
    document = token_server.document(server.url, tls=tls_key(ca=server_ca, client=client))

    run = execute(enqueue(integrate(document)))

    assert run.status == "succeeded", run.error
    (token_request,) = token_server.token_requests
    assert token_request.client_certificate == "runner@example.test"
    assert token_request.form["client_id"] == token_server.client_id
    (arrived,) = server.completion_requests
    assert arrived.headers["authorization"] == f"Bearer {token_server.issued_tokens[0]}"
    assert arrived.client_certificate == "runner@example.test"


def test_a_token_url_that_refuses_the_client_certificate_fails_the_run_in_words(
    https_servers, server_ca, client_ca, integrate, enqueue, execute
):
    token_server = https_servers.oauth2(server_tls(server_ca, client_ca=client_ca))
    document = token_server.document("https://127.0.0.1:9/v1", tls=tls_key(ca=server_ca))

    run = execute(enqueue(integrate(document)))

    assert run.error_type == "token_endpoint_error"
    assert (
        "Could not get an OAuth2 token" in run.error["message"]
        and "requires a client certificate" in run.error["message"]
    )


def test_a_changed_client_certificate_is_used_at_once_never_a_stale_connection(
    https_servers, server_ca, client_ca, org, admin_user, enqueue, execute
):
    server = https_servers.openai(server_tls(server_ca, client_ca=client_ca))
    first, second = client_leaf(client_ca, "first@example.test"), client_leaf(client_ca, "second@example.test")

    def save(client):
        document = provider_document(server.url, tls=tls_key(ca=server_ca, client=client))
        return integration_upsert(organization=org, user=admin_user, name="rotating", document=document)

    integration = save(first)
    assert execute(enqueue(integration)).status == "succeeded"
    integration = save(second)  # the first connection is still alive in the worker's pool
    assert execute(enqueue(integration)).status == "succeeded"

    assert [r.client_certificate for r in server.completion_requests] == [
        "first@example.test",
        "second@example.test",
    ]


def test_clients_with_tls_settings_keep_the_address_policy(
    https_servers, server_ca, settings, integrate, enqueue, execute
):
    server = https_servers.openai(server_tls(server_ca))
    integration = integrate(provider_document(server.url.replace("127.0.0.1", "localhost"), tls=tls_key(ca=server_ca)))
    settings.RUNNERS_BLOCK_PRIVATE_NETWORKS = True

    run = execute(enqueue(integration))

    assert run.error_type == "blocked_address"
    assert server.completion_requests == []


def test_clients_per_tls_configuration_are_bounded_and_evicted_ones_closed(server_ca, client_ca):
    configurations = [TLSConfig.of(**tls_key(client=client_leaf(client_ca, f"c{i}@example.test"))) for i in range(3)]

    async def exercise():
        clients = TLSClients(retire_after=0.05, size=2)
        first = clients.get(configurations[0])
        assert clients.get(configurations[0]) is first  # the same configuration: the same client and context
        clients.get(configurations[1])
        clients.get(configurations[2])  # evicts the least recently used, the first
        assert len(clients) == 2 and not first.is_closed  # still open for requests in flight ...
        await asyncio.sleep(0.2)
        assert first.is_closed  # ... then closed
        assert clients.get(configurations[0]) is not first
        await clients.aclose()

    asyncio.run(exercise())


def test_the_key_never_shows_in_a_tls_configurations_repr(client):
    config = TLSConfig.of(**tls_key(client=client))
    assert "PRIVATE KEY" not in repr(config)
    assert config.digest != TLSConfig.of(**tls_key(client=client_leaf(trustme.CA()))).digest
