"""SSRF policy: metadata and link-local addresses in every encoding are refused when a document is saved and when
a runner connects (on the resolved address, so DNS rebinding fails); redirects are not followed; loopback and
private ranges are allowed unless RUNNERS_BLOCK_PRIVATE_NETWORKS is set (tests run in debug, where it defaults to
false; tests/hardening/test_private_networks.py covers the production default and RUNNERS_ALLOWED_NETWORKS)."""

import asyncio
import ipaddress
import time

import httpx
import pytest

from core.network_policy import BlockedAddress, checked_addresses, literal_address, policy_transport
from core.problems import Invalid
from integrations.models import Integration
from runners.event_loop import CLIENT_LIMITS, http_client, submit
from runners.transport import Timeouts, connection_failure
from tests.factories import make_integration
from tests.fixtures.servers import Reply
from tests.runners.conftest import provider_document

METADATA = ipaddress.ip_address("169.254.169.254")
# Every spelling of the cloud metadata service a URL parser or resolver accepts, and the IPv6 ones.
METADATA_HOSTS = [
    "169.254.169.254",
    "2852039166",  # decimal
    "0xa9fea9fe",  # hex
    "0xA9.0xFE.0xA9.0xFE",  # dotted hex
    "0251.0376.0251.0376",  # octal
    "169.254.43518",  # short forms
    "169.16689662",
    "169.254.169.254.",  # trailing dot
    "[::ffff:169.254.169.254]",  # IPv4-mapped IPv6
    "[::ffff:a9fe:a9fe]",
    "[64:ff9b::a9fe:a9fe]",  # NAT64
    "[fd00:ec2::254]",  # AWS IPv6 metadata
    "[fe80::1]",  # IPv6 link-local
    "169.254.0.1",  # IPv4 link-local
]
PRIVATE_HOSTS = ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "[::1]", "[fd12:3456::1]", "0.0.0.0"]


@pytest.mark.parametrize("host", METADATA_HOSTS[:8])
def test_every_ipv4_spelling_of_the_metadata_address_is_recognised(host):
    assert literal_address(host) == METADATA


@pytest.mark.parametrize("host", ["api.example.com", "123.example", "1.2.3.4.5", "256.1.1.1", "0x1g", "::g"])
def test_host_names_and_invalid_numbers_are_not_addresses(host):
    assert literal_address(host) is None


@pytest.mark.parametrize("field", ["endpoint", "oauth2_token_url"])
@pytest.mark.parametrize("host", METADATA_HOSTS)
def test_a_document_with_a_metadata_or_link_local_address_is_refused(org, host, field):
    document = provider_document(
        "https://api.example.com/v1", auth="oauth2", token='{"client_id": "a", "client_secret": "b"}'
    )
    document[field] = f"http://{host}/latest/meta-data/"
    with pytest.raises(Invalid) as caught:
        make_integration(organization=org, document=document)

    (error,) = caught.value.errors
    assert (error.loc, error.type) == ((field,), "blocked_address")
    assert "link-local and cloud metadata addresses are never allowed" in error.message
    assert not Integration.objects.exists()


@pytest.mark.parametrize("host", PRIVATE_HOSTS)
def test_private_addresses_are_allowed_by_default_and_refused_with_the_setting(org, host, settings):
    document = provider_document(f"http://{host}:8080/v1")
    make_integration(organization=org, name="allowed", document=document)

    settings.RUNNERS_BLOCK_PRIVATE_NETWORKS = True
    with pytest.raises(Invalid) as caught:
        make_integration(organization=org, name="blocked", document=document)
    assert caught.value.errors[0].type == "blocked_address"
    assert "RUNNERS_BLOCK_PRIVATE_NETWORKS" in caught.value.errors[0].message


def fake_resolver(*answers):
    """A resolver answering each call with the next list of addresses (a DNS server that rebinds)."""
    calls = []

    async def resolve(host, port):
        calls.append(host)
        return list(answers[min(len(calls), len(answers)) - 1])

    resolve.calls = calls
    return resolve


@pytest.mark.parametrize(
    "addresses",
    [["169.254.169.254"], ["fd00:ec2::254"], ["::ffff:169.254.169.254"], ["93.184.216.34", "169.254.169.254"]],
)
def test_a_name_resolving_to_a_blocked_address_is_refused(addresses):
    with pytest.raises(BlockedAddress, match="never allowed"):
        asyncio.run(checked_addresses("metadata.example", 80, resolver=fake_resolver(addresses), block_private=False))


def test_a_name_resolving_to_loopback_is_allowed_unless_private_networks_are_blocked():
    resolver = fake_resolver(["127.0.0.1"])
    assert asyncio.run(checked_addresses("gw.internal", 80, resolver=resolver, block_private=False)) == [
        ipaddress.ip_address("127.0.0.1")
    ]
    with pytest.raises(BlockedAddress, match="RUNNERS_BLOCK_PRIVATE_NETWORKS"):
        asyncio.run(checked_addresses("gw.internal", 80, resolver=resolver, block_private=True))


class NoConnect:
    """Stands in for the socket layer: the policy must refuse before it is reached."""

    async def connect_tcp(self, *args, **kwargs):
        raise AssertionError("a connection was attempted")


def test_dns_rebinding_fails_on_the_second_connection(openai_server):
    port = int(openai_server.url.split(":")[2].split("/")[0])
    url = f"http://provider.rebind.test:{port}/v1/chat/completions"
    resolver = fake_resolver(["127.0.0.1"], ["169.254.169.254"])
    body = {"model": "echo-model", "messages": [{"role": "user", "content": "hi"}]}

    async def twice():
        transport = policy_transport(limits=CLIENT_LIMITS, resolver=resolver)
        async with httpx.AsyncClient(transport=transport) as client:
            # The name does not exist in real DNS: the first answer proves the connection went to the checked address.
            first = await client.post(url, json=body, headers={"Connection": "close"})
            transport._pool._network_backend._backend = NoConnect()
            with pytest.raises(httpx.ConnectError) as caught:
                await client.post(url, json=body)
            return first, caught.value

    first, error = asyncio.run(twice())

    assert first.status_code == 200
    assert resolver.calls == ["provider.rebind.test", "provider.rebind.test"]
    assert len(openai_server.completion_requests) == 1
    failure = connection_failure(error, url, Timeouts(connect=1, request=1))
    assert (failure.error_type, failure.permanent) == ("blocked_address", True)
    assert failure.message.startswith(
        "Connecting to provider.rebind.test (169.254.169.254) was refused: link-local and cloud metadata addresses "
        "are never allowed."
    )


def run_against(execute, integrate, enqueue, document, **changes):
    """A run of an integration whose URLs were changed in the database (rows saved before the policy existed)."""
    integration = integrate(document)
    Integration.objects.filter(pk=integration.pk).update(**changes)
    started = time.monotonic()
    run = execute(enqueue(integration))
    return run, time.monotonic() - started


@pytest.mark.parametrize("host", METADATA_HOSTS)
def test_a_run_to_a_metadata_address_is_refused_before_connecting(execute, openai_server, integrate, enqueue, host):
    run, elapsed = run_against(
        execute, integrate, enqueue, provider_document(openai_server.url), endpoint=f"http://{host}/latest/meta-data"
    )

    assert (run.status, run.error_type, run.attempts) == ("failed", "blocked_address", 1)
    assert "link-local and cloud metadata addresses are never allowed" in run.error_message
    assert "sk-test-ABC123xyz" not in run.error_message and "meta-data" not in run.error_message
    assert elapsed < 5  # refused, not timed out (nothing on 127.0.0.1 answers for these)


def test_a_token_url_on_a_metadata_address_is_refused(execute, openai_server, oauth2_server, integrate, enqueue):
    run, _ = run_against(
        execute,
        integrate,
        enqueue,
        oauth2_server.document(openai_server.url),
        oauth2_token_url="http://[::ffff:a9fe:a9fe]/latest/api/token",
    )

    # The token request's failures all carry the token endpoint's error_type; the message says why.
    assert (run.status, run.error_type) == ("failed", "token_endpoint_error")
    assert run.error_message.startswith(
        "Could not get an OAuth2 token: Connecting to ::ffff:a9fe:a9fe was refused: link-local and cloud metadata"
    )
    assert oauth2_server.token_requests == [] and openai_server.completion_requests == []


def test_loopback_is_reachable_by_default(execute, openai_server, integrate, enqueue):
    run = execute(enqueue(integrate(provider_document(openai_server.url.replace("127.0.0.1", "localhost")))))
    assert run.status == "succeeded", run.error_message


# Host spellings no other test connects with: a connection pooled before the setting changed would be reused.
@pytest.mark.parametrize("host", ["2130706433", "127.0.0.1."])
def test_blocking_private_networks_refuses_loopback_at_connect_time(
    execute, openai_server, oauth2_server, integrate, enqueue, settings, host
):
    integration = integrate(provider_document(openai_server.url.replace("127.0.0.1", host)))
    settings.RUNNERS_BLOCK_PRIVATE_NETWORKS = True
    run = execute(enqueue(integration))

    assert (run.status, run.error_type, run.attempts) == ("failed", "blocked_address", 1)
    assert "loopback and private network addresses are blocked (RUNNERS_BLOCK_PRIVATE_NETWORKS is true" in (
        run.error_message
    )
    assert openai_server.completion_requests == []


def test_blocking_private_networks_applies_to_the_token_request(
    execute, openai_server, oauth2_server, integrate, enqueue, settings
):
    token_url = oauth2_server.url.replace("127.0.0.1", "0x7f000001")
    integration = integrate(oauth2_server.document(openai_server.url, oauth2_token_url=token_url))
    settings.RUNNERS_BLOCK_PRIVATE_NETWORKS = True
    run = execute(enqueue(integration))

    assert (run.status, run.error_type) == ("failed", "token_endpoint_error")
    assert run.error_message.startswith(
        "Could not get an OAuth2 token: Connecting to 0x7f000001 (127.0.0.1) was refused: loopback and private "
        "network addresses are blocked (RUNNERS_BLOCK_PRIVATE_NETWORKS is true; an operator can list the ranges that "
        "stay reachable in RUNNERS_ALLOWED_NETWORKS)."
    )
    assert oauth2_server.token_requests == []


def test_the_shared_client_does_not_follow_redirects():
    async def follows():
        return http_client().follow_redirects

    assert submit(follows()).result(5) is False


def test_a_redirect_to_the_metadata_service_is_reported_not_followed(execute, openai_server, integrate, enqueue):
    location = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    openai_server.enqueue(Reply(status=302, headers={"Location": location}))
    run = execute(enqueue(integrate(provider_document(openai_server.url))))

    assert (run.status, run.error_type, run.attempts) == ("failed", "bad_request", 1)
    assert run.error_message == (
        f"The provider redirected the request (HTTP 302) to {location}: use the final URL as the endpoint."
    )
    assert len(openai_server.completion_requests) == 1
