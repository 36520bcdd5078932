"""The integrations a worker process has read, reused while they are unchanged.

Every run needs its integration (secrets decrypted) and its model's supported parameters. Reading them was a
query per run on the worker's hot path. Instead, the statement that claims a run also returns its integration's
`updated_at` (runners.claiming.run_claim), and the worker reuses what it read for that integration and version.
Every change goes through integrations.services.integration_upsert, which saves the integration (moving
`updated_at`) and its models in one transaction; a deleted integration leaves its runs without one (SET_NULL).
Key rotation re-encrypts without changing what the secrets decrypt to.
"""

import threading
from collections import OrderedDict
from typing import Any

from integrations.models import Integration
from runners.request_building import IntegrationConfig
from runners.tls import TLSConfig

MAX_INTEGRATIONS = 256  # per worker process; least recently used first out

_entries: OrderedDict[int, tuple[Any, IntegrationConfig]] = OrderedDict()
_lock = threading.Lock()


def integration_config(integration_id: int, version: Any) -> IntegrationConfig | None:
    """The integration as of `version` (its updated_at, as the claim returned it), or None if it is gone."""
    with _lock:
        entry = _entries.get(integration_id)
        if entry is not None and version is not None and entry[0] == version:
            _entries.move_to_end(integration_id)
            return entry[1]
    config = _read(integration_id)
    if config is None or version is None:
        return config
    # Read after the claim: if the integration changed in between, this is newer than `version`, never older,
    # and the next run's claim returns the new version and reads it again.
    with _lock:
        _entries[integration_id] = (version, config)
        _entries.move_to_end(integration_id)
        while len(_entries) > MAX_INTEGRATIONS:
            _entries.popitem(last=False)
    return config


def _read(integration_id: int) -> IntegrationConfig | None:
    integration = Integration.objects.prefetch_related("models").filter(pk=integration_id).first()
    if integration is None:
        return None
    supported: dict[str, list[str]] = {}
    names: dict[str, dict[str, str]] = {}
    for model in integration.models.all():  # ordered by position
        supported.setdefault(model.name, list(model.supported_parameters))
        names.setdefault(model.name, dict(model.parameter_names or {}))
    return IntegrationConfig(
        name=integration.name,
        endpoint=integration.endpoint,
        authentication_type=integration.authentication_type,
        api_key_header=integration.api_key_header,
        api_key_value=integration.api_key_value,
        token_url=integration.token_url,
        token_document=integration.token,
        authentication_scope=integration.authentication_scope,
        custom_header_mapping=dict(integration.custom_header_mapping or {}),
        static_headers=dict(integration.headers or {}),
        custom_llm_config=integration.custom_llm_config,
        supported_parameters=supported,
        parameter_names=names,
        integration_id=integration.pk,
        oauth2_token_auth_method=integration.oauth2_token_auth_method,
        oauth2_token_auth_method_learned=integration.oauth2_token_auth_method_learned,
        oauth2_token_params=dict(integration.oauth2_token_params or {}),
        tls=TLSConfig.of(
            ca_bundle=integration.tls_ca_bundle,
            client_certificate=integration.tls_client_certificate,
            client_key=integration.tls_client_key,
        ),
        max_concurrency=integration.max_concurrency,
        requests_per_minute=integration.requests_per_minute,
    )
