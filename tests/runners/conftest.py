import pytest

from integrations.models import ModelProperty
from runners.execution import run_execute
from runners.models import Run
from runners.parameters import split_supported, validate_parameters
from runners.services import run_enqueue
from tests.factories import make_integration

# Headers the HTTP client adds for the connection itself; everything else the provider receives is asserted exactly.
TRANSPORT_HEADERS = {"host", "content-length", "accept-encoding", "connection"}


def sent_headers(recorded) -> dict[str, str]:
    return {name: value for name, value in recorded.headers.items() if name not in TRANSPORT_HEADERS}


def provider_document(endpoint: str, *, models=("echo-model",), auth: str = "api_key", **overrides) -> dict:
    """An integration document for the test provider; each model supports max_tokens, temperature, stop_sequences."""
    document = {
        "model_properties": [
            {"name": name, "supported_parameters": ["max_tokens", "temperature", "stop_sequences"]} for name in models
        ],
        "endpoint": endpoint,
    }
    if auth == "api_key":
        document.update(
            authentication_type="api_key", api_key_header="x-portkey-api-key", api_key_value="sk-test-ABC123xyz"
        )
    else:
        document["authentication_type"] = auth
    document.update(overrides)
    return document


@pytest.fixture(autouse=True)
def fast_runner_settings(settings):
    """Short timeouts and backoff so failure tests take milliseconds; read by the worker at call time."""
    settings.RUNNERS_CONNECT_TIMEOUT = 2
    settings.RUNNERS_REQUEST_TIMEOUT = 5
    settings.RUNNERS_MAX_RETRIES = 2
    settings.RUNNERS_BACKOFF_BASE = 0.01
    settings.RUNNERS_BACKOFF_MAX = 0.05
    settings.RUNNERS_RETRY_AFTER_MAX = 0.2
    settings.RUNNERS_MAX_RUN_SECONDS = 20
    settings.RUNNERS_LOST_AFTER_SECONDS = 30
    return settings


@pytest.fixture
def integrate(org, admin_user):
    """integrate(document, name="custom") -> Integration, saved through the one validator."""

    def make(document: dict, name: str = "custom"):
        return make_integration(organization=org, user=admin_user, name=name, document=document)

    return make


@pytest.fixture
def queued_run(admin_user):
    """queued_run(integration, model_name=None, parameters=None, **fields) -> a queued Run whose message was
    never published (for tests that execute it themselves)."""

    def create(integration, model_name=None, *, parameters=None, **fields):
        model = ModelProperty.objects.get(integration=integration, name=model_name or integration.default_model)
        clean = validate_parameters(parameters)
        return Run.objects.create(
            organization=integration.organization,
            user=admin_user,
            integration=integration,
            integration_name=integration.name,
            model_alias=model.alias,
            model_name=model.name,
            messages=fields.pop("messages", [{"role": "user", "content": "Hello there"}]),
            parameters=clean,
            dropped_parameters=split_supported(clean, model.supported_parameters)[1],
            **fields,
        )

    return create


@pytest.fixture
def enqueue(admin_user):
    """enqueue(integration, model_name=None, messages=None, parameters=None, **kwargs) -> Run, via run_enqueue."""

    def start(integration, model_name=None, *, messages=None, parameters=None, user=admin_user, **kwargs):
        model = ModelProperty.objects.get(integration=integration, name=model_name or integration.default_model)
        return run_enqueue(
            model=model,
            user=user,
            messages=messages or [{"role": "user", "content": "Hello there"}],
            parameters=parameters,
            **kwargs,
        )

    return start


@pytest.fixture
def execute(db):
    """execute(run) -> the finished Run: run_execute called in the test process, exactly as the worker's task calls
    it, against the real servers on 127.0.0.1. For tests of what the runner sends, stores and how it classifies a
    failure; what needs a worker (delivery, crashes, concurrency, redelivery) uses the celery_worker fixtures."""

    def run_now(run) -> Run:
        run_execute(run_id=str(run.pk))
        return Run.objects.get(pk=run.pk)

    return run_now
