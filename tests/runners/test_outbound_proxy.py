"""The operator's outbound proxy (RUNNERS_HTTPS_PROXY, RUNNERS_PROXY_BYPASS) with a real forward proxy (proxy.py):
what it carried, what skipped it, and what the address policy still refuses through it."""

import asyncio
import time

import httpx
import pytest
import trustme

from core.egress import ProxySettings, egress_client, parse_proxy_bypass, proxied_host_blocked_reason
from core.network_policy import BlockedAddress
from integrations_site.env import envproxy
from runners import event_loop
from tests.fixtures.certificates import client_leaf, tls_key
from tests.fixtures.servers import server_tls
from tests.runners.conftest import provider_document


@pytest.fixture
def fresh_clients():
    """The worker's shared clients are built once per process from the settings: rebuild them around the test."""
    event_loop.shutdown()
    yield
    event_loop.shutdown()


@pytest.fixture
def through_proxy(settings, forward_proxy, fresh_clients):
    def configure(*bypass: str):
        hosts, networks = parse_proxy_bypass(bypass)
        settings.RUNNERS_PROXY = ProxySettings(url=forward_proxy.url, bypass_hosts=hosts, bypass_networks=networks)
        return forward_proxy

    return configure


def new_lines(proxy, before: int, *, expected: int = 0) -> list[str]:
    """The proxy's access lines since `before`. proxy.py writes a line when a connection closes: the worker's
    connections are closed first, then up to 5 s are given for `expected` lines."""
    event_loop.shutdown()
    deadline = time.monotonic() + (5 if expected else 0.5)
    while len(proxy.access_lines()) - before < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return proxy.access_lines()[before:]


def test_runs_and_token_requests_go_through_the_proxy(
    through_proxy, openai_server, oauth2_server, integrate, enqueue, execute
):
    proxy = through_proxy()
    before = len(proxy.access_lines())
    openai_server.require_oauth2(oauth2_server)

    run = execute(enqueue(integrate(oauth2_server.document(openai_server.url))))

    assert run.status == "succeeded", run.error
    lines = new_lines(proxy, before, expected=2)
    token_port, provider_port = oauth2_server.url.split(":")[2].split("/")[0], openai_server.url.split(":")[2][:-3]
    assert any(f"POST 127.0.0.1:{token_port}/oauth2/token" in line for line in lines), lines
    assert any(f"POST 127.0.0.1:{provider_port}/v1/chat/completions" in line for line in lines), lines
    assert openai_server.completion_requests[0].headers["authorization"].startswith("Bearer at-")


def test_https_goes_through_a_connect_tunnel_with_the_client_certificate_end_to_end(
    through_proxy, https_servers, integrate, enqueue, execute
):
    proxy = through_proxy()
    server_ca, client_ca = trustme.CA(), trustme.CA()
    server = https_servers.openai(server_tls(server_ca, client_ca=client_ca))
    before = len(proxy.access_lines())
    document = provider_document(server.url, tls=tls_key(ca=server_ca, client=client_leaf(client_ca)))

    run = execute(enqueue(integrate(document)))

    assert run.status == "succeeded", run.error
    port = server.url.split(":")[2][:-3]
    assert any(f"CONNECT 127.0.0.1:{port}" in line for line in new_lines(proxy, before, expected=1))
    assert server.completion_requests[0].client_certificate == "runner@example.test"


def test_hosts_in_the_bypass_list_connect_directly(through_proxy, openai_server, integrate, enqueue, execute):
    proxy = through_proxy("127.0.0.0/8", ".corp.example")
    before = len(proxy.access_lines())

    run = execute(enqueue(integrate(provider_document(openai_server.url))))

    assert run.status == "succeeded", run.error
    assert len(openai_server.completion_requests) == 1
    assert new_lines(proxy, before) == []


def test_a_metadata_name_is_refused_before_the_proxy_sees_it(through_proxy, integrate, enqueue, execute):
    proxy = through_proxy()
    before = len(proxy.access_lines())

    run = execute(enqueue(integrate(provider_document("http://metadata.google.internal/v1"))))

    assert run.error_type == "blocked_address"
    assert "cloud metadata" in run.error["message"]
    assert new_lines(proxy, before) == []


def test_localhost_is_refused_through_the_proxy_when_private_networks_are_blocked(
    through_proxy, settings, openai_server, integrate, enqueue, execute
):
    proxy = through_proxy()
    integration = integrate(provider_document(openai_server.url.replace("127.0.0.1", "localhost")))
    settings.RUNNERS_BLOCK_PRIVATE_NETWORKS = True
    before = len(proxy.access_lines())

    run = execute(enqueue(integration))

    assert run.error_type == "blocked_address"
    assert new_lines(proxy, before) == [] and openai_server.completion_requests == []


def test_literal_addresses_in_every_spelling_are_refused_before_the_proxy(settings, forward_proxy):
    settings.RUNNERS_PROXY = ProxySettings(url=forward_proxy.url)
    before = len(forward_proxy.access_lines())

    async def attempt(url):
        async with egress_client(limits=httpx.Limits()) as client:
            with pytest.raises(httpx.ConnectError) as caught:
                await client.get(url)
        return caught.value

    for url in ("http://169.254.169.254/", "http://0xa9fea9fe/", "http://[::ffff:169.254.169.254]/"):
        error = asyncio.run(attempt(url))
        assert isinstance(error.__cause__, BlockedAddress), url
    assert forward_proxy.access_lines()[before:] == []


def test_what_the_policy_can_check_through_a_proxy():
    assert proxied_host_blocked_reason("169.254.169.254", block_private=False)
    assert proxied_host_blocked_reason("2852039166", block_private=False)  # 169.254.169.254 as one number
    assert proxied_host_blocked_reason("METADATA.google.internal.", block_private=False)
    assert proxied_host_blocked_reason("10.1.2.3", block_private=True)
    assert proxied_host_blocked_reason("api.localhost", block_private=True)
    assert proxied_host_blocked_reason("api.localhost", block_private=False) is None
    # A name is handed to the proxy as it is: what it resolves to is the proxy's to judge.
    assert proxied_host_blocked_reason("internal-gateway.corp.example", block_private=True) is None


def test_a_proxy_that_cannot_reach_the_endpoint_says_so(through_proxy, integrate, enqueue, execute):
    through_proxy()

    run = execute(enqueue(integrate(provider_document("https://127.0.0.1:9/v1"))))

    assert run.error_type == "connection_error"
    assert "The outbound proxy (RUNNERS_HTTPS_PROXY) did not open a connection to 127.0.0.1:9" in run.error["message"]


def test_a_proxy_that_cannot_be_reached_is_named_as_the_cause(
    settings, fresh_clients, openai_server, integrate, enqueue, execute
):
    settings.RUNNERS_PROXY = ProxySettings(url="http://127.0.0.1:9")  # nothing listens there

    run = execute(enqueue(integrate(provider_document(openai_server.url))))

    assert run.error_type == "connection_error"
    assert "The outbound proxy (RUNNERS_HTTPS_PROXY)" in run.error["message"]
    assert "the proxy could not be reached" in run.error["message"]
    assert openai_server.completion_requests == []


def test_the_environments_proxy_variables_are_ignored(
    monkeypatch, fresh_clients, openai_server, integrate, enqueue, execute
):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there

    run = execute(enqueue(integrate(provider_document(openai_server.url))))

    assert run.status == "succeeded", run.error


def test_the_setting_is_off_by_default_and_refuses_bad_values_without_echoing_them(monkeypatch):
    monkeypatch.delenv("RUNNERS_HTTPS_PROXY", raising=False)
    assert envproxy("RUNNERS_HTTPS_PROXY", "RUNNERS_PROXY_BYPASS") is None

    monkeypatch.setenv("RUNNERS_HTTPS_PROXY", "socks5://user:proxy-password@proxy:1080")
    with pytest.raises(Exception) as caught:
        envproxy("RUNNERS_HTTPS_PROXY", "RUNNERS_PROXY_BYPASS")
    assert "proxy-password" not in str(caught.value) and "RUNNERS_HTTPS_PROXY" in str(caught.value)

    monkeypatch.setenv("RUNNERS_HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("RUNNERS_PROXY_BYPASS", "llm.corp.example, *.svc.cluster.local, 10.20.0.0/16, bad host")
    with pytest.raises(Exception, match="RUNNERS_PROXY_BYPASS: 'bad host'"):
        envproxy("RUNNERS_HTTPS_PROXY", "RUNNERS_PROXY_BYPASS")

    monkeypatch.setenv("RUNNERS_PROXY_BYPASS", "llm.corp.example, *.svc.cluster.local, 10.20.0.0/16")
    proxy = envproxy("RUNNERS_HTTPS_PROXY", "RUNNERS_PROXY_BYPASS")
    assert proxy.bypassed("llm.corp.example") and proxy.bypassed("api.svc.cluster.local")
    assert proxy.bypassed("10.20.3.4") and not proxy.bypassed("10.21.0.1")
    assert proxy.bypassed("svc.cluster.local")  # a domain and its subdomains
    assert not proxy.bypassed("corp.example") and not proxy.bypassed("evil-llm.corp.example.attacker.test")
    assert not proxy.bypassed("notsvc.cluster.local.attacker.test") and not proxy.bypassed("xsvc.cluster.local")
