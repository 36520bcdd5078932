import pytest
from hypothesis import HealthCheck, given, settings

from core.problems import Invalid
from runners.models import Run
from runners.services import run_enqueue
from tests.factories import make_integration
from tests.hardening.strategies import malformed_run_requests


@pytest.fixture
def model(org):
    return make_integration(organization=org).models.get(alias="GPT 5.2")


@pytest.mark.slow
@settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=malformed_run_requests())
def test_a_thousand_malformed_run_requests_each_get_paths_and_enqueue_nothing(model, request):
    messages, parameters = request
    with pytest.raises(Invalid) as caught:
        run_enqueue(model=model, user=None, messages=messages, parameters=parameters)
    assert caught.value.errors
    for error in caught.value.errors:
        assert error.loc[0] in ("messages", "parameters") and error.message
    assert not Run.objects.exists()
