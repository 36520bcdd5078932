"""Fixtures of the provider conformance suite: a profile plugged into the fake provider, runs executed by the real
runner (the `execute` fixture of tests/runners), and the run as the API returns it."""

import pytest

from tests.api.conftest import client_for
from tests.conformance.profiles import Profile
from tests.runners.conftest import (  # noqa: F401 (fixtures used by this folder's tests)
    enqueue,
    execute,
    fast_runner_settings,
    integrate,
)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/conformance/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.conformance)


@pytest.fixture
def serve(openai_server):
    """serve(ProfileClass) -> the profile, now answering the fake provider's chat completions."""

    def plug(profile_class: type[Profile]) -> Profile:
        profile = profile_class()
        openai_server.profile = profile
        return profile

    return plug


@pytest.fixture
def api_read(admin_user):
    """api_read(run) -> GET /api/v2/runs/{id} as JSON, read with an API key of the organization's admin."""
    client = client_for(admin_user)

    def read(run) -> dict:
        response = client.get(f"/api/v2/runs/{run.pk}")
        assert response.status_code == 200, response.content
        return response.json()

    return read


from tests.conformance.litellm_proxy import litellm_proxy  # noqa: E402, F401 (session fixture)
