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
