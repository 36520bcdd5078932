"""Writes for integrations. Every create and update goes through integration_upsert."""

import hashlib
import json
from collections.abc import Collection
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.problems import Invalid, Problem
from integrations.dependents import alias_dependents, dependents_summary, integration_dependents
from integrations.document import SECRET_PLACEHOLDER, ParsedDocument, load_json, parse_document
from integrations.encryption import encrypted_fields, secrets_cipher
from integrations.handler_files import HandlerConfigError, resolve_handler_path
from integrations.models import Integration, ModelProperty
from organizations.models import Organization

NAME_MAX_LENGTH = 100
ANY_VERSION = "*"


class IntegrationChanged(Exception):
    """The integration is not at the version the caller read (someone saved it meanwhile, or deleted it)."""

    def __init__(self, current: str | None):
        super().__init__("The integration changed since it was read.")
        self.current = current


def integration_version(*, integration: Integration) -> str:
    """An opaque tag (20 hex characters) that changes with every save; the API's ETag, the editor's `version`."""
    stamp = f"{integration.pk}:{integration.updated_at.isoformat()}"
    return hashlib.sha256(stamp.encode()).hexdigest()[:20]


def _check_name(name: str) -> None:
    from django.core.validators import validate_slug

    try:
        validate_slug(name)
    except Exception:
        raise Invalid([Problem(("name",), "Use letters, digits, hyphens and underscores only.", "slug")]) from None
    if len(name) > NAME_MAX_LENGTH:
        raise Invalid([Problem(("name",), f"At most {NAME_MAX_LENGTH} characters.", "too_long")])


def _restore_secrets(raw: dict, existing: Integration | None) -> list[Problem]:
    """Swap the placeholder for the stored secret wherever a read-back document is sent again."""
    errors = []

    def stored_or_error(loc, stored):
        if stored:
            return stored
        errors.append(
            Problem(
                loc,
                f'"{SECRET_PLACEHOLDER}" stands for a stored secret, but none is stored here; send the real value.',
                "placeholder_without_secret",
            )
        )
        return None

    for key in ("api_key_value", "token"):
        if raw.get(key) == SECRET_PLACEHOLDER:
            raw[key] = stored_or_error((key,), getattr(existing, key, None) if existing else None)
    tls = raw.get("tls")
    if isinstance(tls, dict) and tls.get("client_key") == SECRET_PLACEHOLDER:
        tls["client_key"] = stored_or_error(("tls", "client_key"), existing.tls_client_key if existing else None)
    headers = raw.get("headers")
    if isinstance(headers, dict):
        stored_headers = (existing.headers or {}) if existing else {}
        for name, value in headers.items():
            if value == SECRET_PLACEHOLDER:
                headers[name] = stored_or_error(("headers", name), stored_headers.get(name))
    return errors


def _check_custom_handler(parsed: ParsedDocument) -> list[Problem]:
    if parsed.custom_llm_config is None:
        return []
    if settings.GALILEO_CUSTOM_LLMS_ENABLED and not Path(settings.GALILEO_CUSTOM_LLMS_DIRECTORY).is_dir():
        # Handler files live on the runners' filesystem; when this host cannot
        # see that directory, the file is checked when a run loads it.
        return []
    try:
        resolve_handler_path(parsed.custom_llm_config["file_name"])
    except HandlerConfigError as exc:
        return [Problem(("custom_llm_config", "file_name"), str(exc), "handler_unavailable")]
    return []


def _check_aliases_free(parsed: ParsedDocument, *, organization: Organization, existing: Integration | None):
    taken = ModelProperty.objects.filter(organization=organization, alias__in=[m.alias for m in parsed.models])
    if existing is not None:
        taken = taken.exclude(integration=existing)
    owners = dict(taken.values_list("alias", "integration__name"))
    return [
        Problem(
            ("model_properties", index, "alias"),
            f'Alias "{model.alias}" is already used by integration "{owners[model.alias]}"; aliases are unique '
            "in your organisation.",
            "duplicate_alias",
        )
        for index, model in enumerate(parsed.models)
        if model.alias in owners
    ]


def integration_upsert(
    *,
    organization: Organization,
    user,
    name: str,
    document,
    if_match: Collection[str] | None = None,
    confirm: bool = False,
) -> Integration:
    """Create or replace the integration `name` from a document (dict or JSON text).

    `if_match`: the versions (`integration_version`) the caller may replace, `"*"` for any existing one; None to
    replace whatever is stored. Raises IntegrationChanged when the stored integration (or its absence) does not match,
    Invalid with every problem found, and, unless `confirm`, IntegrationInUse when the new document drops (renames
    or removes) model aliases that metrics or saved prompt versions use (as integration_delete does); nothing is
    written then.
    """
    _check_name(name)
    raw = load_json(document) if isinstance(document, str | bytes) else document
    if not isinstance(raw, dict):
        raise Invalid([Problem((), "The document must be a JSON object.", "dict_type")])
    raw = json.loads(json.dumps(raw))  # a private copy we may edit
    with transaction.atomic():
        existing = Integration.objects.select_for_update().filter(organization=organization, name=name).first()
        if if_match is not None:
            _check_version(existing, if_match)
        errors = _restore_secrets(raw, existing)
        try:
            parsed = parse_document(raw)
        except Invalid as exc:
            raise Invalid(errors + exc.errors) from None
        errors += _check_custom_handler(parsed)
        errors += _check_aliases_free(parsed, organization=organization, existing=existing)
        if errors:
            raise Invalid(errors)
        if existing is not None and not confirm:
            _check_dropped_aliases(existing, parsed)
        try:
            with transaction.atomic():
                return _save(parsed, organization=organization, user=user, name=name, existing=existing)
        except IntegrityError:
            # Another request took a name or alias between our check and our write.
            raise Invalid(
                [Problem(("model_properties",), "An alias or name was taken meanwhile; try again.", "conflict")]
            ) from None


def _check_version(existing: Integration | None, if_match: Collection[str]) -> None:
    current = integration_version(integration=existing) if existing is not None else None
    if current is None or not (current in if_match or ANY_VERSION in if_match):
        raise IntegrationChanged(current)


def _save(parsed: ParsedDocument, *, organization, user, name, existing) -> Integration:
    integration = existing or Integration(organization=organization, name=name, created_by=user)
    if existing is not None and _token_client_changed(existing, parsed):
        # What another token endpoint or client accepted says nothing about this one.
        integration.oauth2_token_auth_method_learned = ""
        integration.oauth2_token_auth_method_learned_at = None
    integration.authentication_type = parsed.authentication_type
    integration.api_key_header = parsed.api_key_header
    integration.api_key_value = parsed.api_key_value
    integration.oauth2_token_url = parsed.oauth2_token_url
    integration.authentication_scope = parsed.authentication_scope
    integration.token = parsed.token
    integration.endpoint = parsed.endpoint
    integration.default_model = parsed.default_model
    integration.custom_header_mapping = parsed.custom_header_mapping
    integration.headers = parsed.headers
    integration.custom_llm_config = parsed.custom_llm_config
    integration.oauth2_token_auth_method = parsed.oauth2_token_auth_method
    integration.oauth2_token_params = parsed.oauth2_token_params
    integration.tls_ca_bundle = (parsed.tls and parsed.tls.ca_bundle) or ""
    integration.tls_client_certificate = (parsed.tls and parsed.tls.client_certificate) or ""
    integration.tls_client_key = parsed.tls.client_key if parsed.tls else None
    integration.max_concurrency = parsed.max_concurrency
    integration.requests_per_minute = parsed.requests_per_minute
    integration.save()
    integration.models.all().delete()
    ModelProperty.objects.bulk_create(
        ModelProperty(
            integration=integration,
            organization=organization,
            position=position,
            name=model.name,
            alias=model.alias,
            based_on=model.based_on or "",
            declared_parameters=model.declared_parameters,
            supported_parameters=model.supported_parameters,
            declared_parameter_names=model.declared_parameter_names,
            parameter_names=model.parameter_names,
        )
        for position, model in enumerate(parsed.models)
    )
    # Learned rules of models that left the document go with them.
    integration.parameter_rules.exclude(model_name__in=[model.name for model in parsed.models]).delete()
    return integration


def _token_client_changed(existing: Integration, parsed: ParsedDocument) -> bool:
    token_url = parsed.oauth2_token_url or parsed.endpoint
    return (
        existing.authentication_type != parsed.authentication_type
        or existing.token_url != token_url
        or existing.token != parsed.token
    )


def integration_oauth2_method_learn(*, integration_id: int, method: str) -> bool:
    """Record the client authentication method the token endpoint accepted (runners.auth, when the document names
    none). One conditional UPDATE, written only when it changes; `updated_at` does not move (the document did not
    change, so its ETag and the workers' cached copies stay valid). Returns True if it was written."""
    changed = (
        Integration.objects.filter(pk=integration_id, oauth2_token_auth_method="")
        .exclude(oauth2_token_auth_method_learned=method)
        .update(oauth2_token_auth_method_learned=method, oauth2_token_auth_method_learned_at=timezone.now())
    )
    return bool(changed)


def integration_oauth2_method_pin(*, integration: Integration, user, if_match: Collection[str] | None = None):
    """Write the learned OAuth2 client authentication method into the document as `oauth2_token_auth_method`,
    through integration_upsert (validation, ETag, secrets kept). Raises Invalid when nothing was learned or the
    document already names a method, IntegrationChanged on a stale `if_match`."""
    method = integration.oauth2_token_auth_method_learned
    if integration.authentication_type != "oauth2" or not method:
        raise Invalid(
            [Problem(("oauth2_token_auth_method",), "No method has been learned for this integration yet.", "missing")]
        )
    if integration.oauth2_token_auth_method:
        raise Invalid(
            [
                Problem(
                    ("oauth2_token_auth_method",),
                    f'The document already names "{integration.oauth2_token_auth_method}".',
                    "already_set",
                )
            ]
        )
    document = integration_document(integration=integration)  # secrets as placeholders: the upsert keeps them
    document["oauth2_token_auth_method"] = method
    return integration_upsert(
        organization=integration.organization,
        user=user,
        name=integration.name,
        document=document,
        if_match=if_match if if_match is not None else [integration_version(integration=integration)],
    )


class IntegrationInUse(Exception):
    """Deleting the integration, or an edit that drops some of its model aliases (`dropped`, sorted; empty for a
    delete), would break what uses those models; `dependents` lists them (integrations.dependents.Dependent)."""

    def __init__(self, *, integration: Integration, dependents: list, dropped: list[str] | None = None) -> None:
        self.dependents = dependents
        self.dropped = dropped or []
        if self.dropped:
            aliases = ", ".join(f"“{alias}”" for alias in self.dropped)
            message = (
                f"This edit of the integration “{integration.name}” renames or removes the model"
                f"{'s' if len(self.dropped) > 1 else ''} {aliases}, which would break "
                f"{dependents_summary(dependents)}. Confirm to save it anyway."
            )
        else:
            message = (
                f"Deleting the integration “{integration.name}” would break {dependents_summary(dependents)}, which "
                "use its models. Confirm to delete it anyway."
            )
        super().__init__(message)


def _check_dropped_aliases(existing: Integration, parsed: ParsedDocument) -> None:
    """Raise IntegrationInUse when aliases of `existing` that the new document no longer has are in use."""
    kept = {model.alias for model in parsed.models}
    dropped = sorted(set(existing.models.values_list("alias", flat=True)) - kept)
    dependents = alias_dependents(organization_id=existing.organization_id, aliases=dropped)
    if dependents:
        raise IntegrationInUse(integration=existing, dependents=dependents, dropped=dropped)


def integration_delete(*, integration: Integration, confirm: bool = False) -> None:
    """Delete the integration and its models. Unless `confirm`, raises IntegrationInUse (and deletes nothing) when
    metrics judge with one of its models or saved prompt versions are written for one (integration_dependents):
    those stop working once their model's alias is gone."""
    if not confirm:
        dependents = integration_dependents(integration=integration)
        if dependents:
            raise IntegrationInUse(integration=integration, dependents=dependents)
    integration.delete()


def integration_document(*, integration: Integration, reveal_secrets: bool = False) -> dict:
    """The integration as the JSON document; secrets replaced by the placeholder unless revealed."""

    def secret(value):
        if value is None:
            return None
        return value if reveal_secrets else SECRET_PLACEHOLDER

    document: dict = {"authentication_type": integration.authentication_type}
    if integration.authentication_type == "api_key":
        document["api_key_header"] = integration.api_key_header
        document["api_key_value"] = secret(integration.api_key_value)
    elif integration.authentication_type == "oauth2":
        if integration.oauth2_token_url:
            document["oauth2_token_url"] = integration.oauth2_token_url
        document["token"] = secret(integration.token)
        if integration.authentication_scope:
            document["authentication_scope"] = integration.authentication_scope
        if integration.oauth2_token_auth_method:
            document["oauth2_token_auth_method"] = integration.oauth2_token_auth_method
        if integration.oauth2_token_params:
            document["oauth2_token_params"] = integration.oauth2_token_params
    document["model_properties"] = []
    for model in integration.models.all():
        entry = {"name": model.name, "alias": model.alias}
        if model.based_on:
            entry["based_on"] = model.based_on
        elif model.declared_parameters is not None:
            entry["supported_parameters"] = model.declared_parameters
        if model.declared_parameter_names is not None:
            entry["parameter_names"] = model.declared_parameter_names
        document["model_properties"].append(entry)
    document["default_model"] = integration.default_model
    document["endpoint"] = integration.endpoint
    if integration.custom_header_mapping:
        document["custom_header_mapping"] = integration.custom_header_mapping
    if integration.headers:
        document["headers"] = {name: secret(value) for name, value in integration.headers.items()}
    if integration.custom_llm_config:
        document["custom_llm_config"] = integration.custom_llm_config
    tls = {
        "ca_bundle": integration.tls_ca_bundle or None,
        "client_certificate": integration.tls_client_certificate or None,
        "client_key": secret(integration.tls_client_key),
    }
    if any(tls.values()):
        document["tls"] = {key: value for key, value in tls.items() if value is not None}
    for key in ("max_concurrency", "requests_per_minute"):
        if getattr(integration, key) is not None:
            document[key] = getattr(integration, key)
    return document


def secrets_reencrypt() -> int:
    """Re-encrypt every stored secret under the first key of INTEGRATIONS_ENCRYPTION_KEYS; returns how many values.

    One transaction; rows are locked (SELECT ... FOR UPDATE where the database has it), so a concurrent save waits
    instead of being overwritten. Values are rotated as tokens (cryptography's MultiFernet.rotate): plaintexts never
    change, and updated_at does not move. Raises cryptography.fernet.InvalidToken, changing nothing, when a value
    cannot be decrypted with any listed key.
    """
    cipher = secrets_cipher()
    quote = connection.ops.quote_name
    table = quote(Integration._meta.db_table)
    columns = [quote(field.column) for field in encrypted_fields(Integration)]
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    assignments = ", ".join(f"{column} = %s" for column in columns)
    count = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(columns)} FROM {table}{lock}")  # noqa: S608 (names from the model)
        for pk, *values in cursor.fetchall():
            rotated = [None if value is None else cipher.rotate(bytes(value)) for value in values]
            cursor.execute(f"UPDATE {table} SET {assignments} WHERE id = %s", [*rotated, pk])  # noqa: S608
            count += sum(value is not None for value in rotated)
    return count
