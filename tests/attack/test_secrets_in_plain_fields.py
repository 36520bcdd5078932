"""Attack findings: secrets that reached fields stored and read back in clear, or error messages."""

import pytest
import trustme

from core.problems import Invalid
from integrations.document import parse_document
from tests.factories import api_key_document
from tests.fixtures.certificates import client_leaf, key_lines, pem_text, tls_key

SECRET = "s3cr3t-Zq81xTT4vW"


def problems(document) -> list[tuple[str, str, str]]:
    with pytest.raises(Invalid) as caught:
        parse_document(document)
    return [(error.path, error.type, error.message) for error in caught.value.errors]


@pytest.mark.parametrize(
    "endpoint",
    [
        f"https://user:{SECRET}@api.example:99999/v1",  # userinfo, and a port out of range
        f"https://api.example:abc/v1?api-key={SECRET}",  # a credential in the query, and a port that is no number
        f"https://[::1/v1?token={SECRET}",  # an IPv6 bracket never closed
        f"https://{SECRET}:{SECRET}/v1",  # a host forgotten: the secret reads as a port
    ],
)
def test_a_url_that_cannot_be_parsed_is_refused_without_quoting_it(endpoint):
    [(path, kind, message)] = problems(api_key_document(endpoint=endpoint))
    assert (path, kind) == ("endpoint", "url_invalid")
    assert SECRET not in message


def test_an_empty_userinfo_is_refused_like_any_userinfo():
    [(path, kind, _)] = problems(api_key_document(endpoint="https://@api.example/v1"))
    assert (path, kind) == ("endpoint", "url_userinfo")


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.mark.parametrize("member", ["ca_bundle", "client_certificate"])
@pytest.mark.parametrize("where", ["after", "before"])
def test_a_private_key_pasted_into_a_certificate_member_is_refused_without_quoting_it(ca, member, where):
    """ca_bundle and client_certificate are read back in clear to every member: a combined "cert + key" PEM file
    pasted there would publish the private key."""
    client = client_leaf(ca)
    tls = tls_key(ca=ca, client=client)
    key = pem_text(client.private_key_pem)
    tls[member] = tls[member] + key if where == "after" else key + tls[member]
    found = problems(api_key_document(tls=tls))
    assert [(path, kind) for path, kind, _ in found] == [(f"tls.{member}", "private_key_in_certificate")]
    assert all(line not in found[0][2] for line in key_lines(client))


@pytest.mark.parametrize(
    "name",
    [
        "subscription-key",  # Azure API Management: Ocp-Apim-Subscription-Key header or this query parameter
        "code",  # Azure Functions' function key
        "x-api-key",
        "client_secret",
        "password",
        "secret",
        "X-Amz-Signature",  # an S3/SigV4 presigned URL
        "X-Amz-Security-Token",
    ],
)
def test_gateway_credentials_in_the_query_string_are_refused_too(name):
    """An endpoint is read back in clear to every member (and the run record already hides these values, see
    runners.redaction.redact_url): a gateway's documented query credential must be refused at save like api-key."""
    [(path, kind, message)] = problems(api_key_document(endpoint=f"https://gw.example/openai/v1?{name}={SECRET}"))
    assert (path, kind) == ("endpoint", "url_credential")
    assert SECRET not in message


def _indented(pem: str) -> str:
    return "".join(f"    {line}" for line in pem.splitlines(keepends=True))


@pytest.mark.parametrize("member", ["ca_bundle", "client_certificate", "client_key"])
def test_pem_text_that_openssl_cannot_load_is_refused_at_save(ca, member):
    """PEM indented as in a YAML or Helm values file: cryptography reads it, but OpenSSL, which makes the
    connections (ssl's load_verify_locations / load_cert_chain), refuses it: accepted at save, every run then failed
    with a misleading "TLS handshake ... failed"."""
    client = client_leaf(ca)
    tls = tls_key(ca=ca, client=client)
    tls[member] = _indented(tls[member])
    found = problems(api_key_document(tls=tls))
    assert [(path, kind) for path, kind, _ in found] == [(f"tls.{member}", "pem_invalid")]
    assert "indent" in found[0][2]
    assert all(line not in found[0][2] for line in key_lines(client))
