"""Attack findings: token answers whose expires_in is a number no cache takes as it is."""

import pytest

from tests.fixtures.servers import Reply


@pytest.mark.parametrize("expires_in", ["1e999", "1e300", "-1e999", "99999999999999999999"])
def test_an_absurd_expires_in_still_gives_a_run_its_token(
    execute, openai_server, oauth2_server, integrate, enqueue, expires_in
):
    """JSON numbers have no bound (RFC 8259 section 6): 1e999 reads as infinity, 1e300 overflows a cache's timeout.
    The token must still be used (and cached for a bounded time), never crash the run."""
    openai_server.require_oauth2(oauth2_server)
    integration = integrate(oauth2_server.document(openai_server.url))
    oauth2_server.enqueue(
        Reply(
            body=f'{{"access_token": "issued-token-1", "token_type": "Bearer", "expires_in": {expires_in}}}',
            content_type="application/json",
        )
    )
    openai_server.require_oauth2(None)  # the token above is not one the fixture issued

    run = execute(enqueue(integration))

    assert (run.status, run.error_type) == ("succeeded", None)
    assert openai_server.completion_requests[-1].headers["authorization"] == "Bearer issued-token-1"


def test_a_401_asking_for_http_basic_makes_the_runner_try_client_secret_basic(
    execute, openai_server, oauth2_server, integrate, enqueue
):
    """RFC 6749 section 5.2: a token endpoint MAY answer 401 with WWW-Authenticate to say which HTTP authentication
    scheme it supports. Spring Security OAuth2's /oauth/token answers credentials in the form that way (its error is
    "unauthorized", not "invalid_client"), and only HTTP Basic works there."""
    openai_server.require_oauth2(oauth2_server)
    integration = integrate(oauth2_server.document(openai_server.url))
    oauth2_server.enqueue(
        Reply(
            status=401,
            json={
                "error": "unauthorized",
                "error_description": "Full authentication is required to access this resource",
            },
            headers={"WWW-Authenticate": 'Basic realm="oauth2/client"'},
        )
    )

    run = execute(enqueue(integration))

    assert (run.status, run.error_type) == ("succeeded", None)
    assert [r.auth_method for r in oauth2_server.token_requests][-1] == "client_secret_basic"
    assert "authorization" not in oauth2_server.token_requests[0].headers
