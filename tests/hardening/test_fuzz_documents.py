import pytest
from hypothesis import HealthCheck, given, settings

from core.problems import Invalid
from integrations.models import Integration, ModelProperty
from integrations.services import integration_upsert
from tests.hardening.strategies import TOP_LEVEL_KEYS, malformed_documents


@pytest.mark.slow
@settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=malformed_documents())
def test_a_thousand_malformed_documents_each_get_paths_and_write_nothing(org, document):
    with pytest.raises(Invalid) as caught:
        integration_upsert(organization=org, user=None, name="custom", document=document)
    assert caught.value.errors
    for error in caught.value.errors:
        assert error.message and error.path
        assert error.loc == () or error.loc[0] in TOP_LEVEL_KEYS or error.loc[0] in document
    assert not Integration.objects.exists() and not ModelProperty.objects.exists()
