import uuid

from django.conf import settings
from django.db import models

from integrations.encryption import EncryptedField
from organizations.models import Organization


class AuthenticationType(models.TextChoices):
    API_KEY = "api_key", "API key"
    OAUTH2 = "oauth2", "OAuth2 client credentials"
    NONE = "none", "None"


class Integration(models.Model):
    """A custom model integration: one endpoint, how to authenticate, and its models.

    Always written through integrations.services.integration_upsert, which
    validates the whole document first.
    """

    # The id users and scripts see; the sequential primary key stays internal (foreign keys, the runners' cache).
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="integrations")
    name = models.SlugField(max_length=100)
    provider = models.CharField(max_length=32, default="custom")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    authentication_type = models.CharField(max_length=16, choices=AuthenticationType.choices)
    api_key_header = models.CharField(max_length=256, blank=True, default="")
    api_key_value = EncryptedField(null=True, blank=True)
    oauth2_token_url = models.URLField(max_length=2048, blank=True, default="")
    authentication_scope = models.CharField(max_length=1024, blank=True, default="")
    token = EncryptedField(null=True, blank=True)
    endpoint = models.URLField(max_length=2048)
    default_model = models.CharField(max_length=255)
    custom_header_mapping = models.JSONField(default=dict, blank=True)
    headers = EncryptedField(default=dict, blank=True)
    custom_llm_config = models.JSONField(null=True, blank=True)
    # Document extensions: how the OAuth2 client authenticates at the token endpoint ("" = not given: found by
    # trying, see runners.auth) and extra form fields of the token request.
    oauth2_token_auth_method = models.CharField(max_length=32, blank=True, default="")
    oauth2_token_params = models.JSONField(default=dict, blank=True)
    # Not part of the document: the method the token endpoint accepted when the document gave none (what the
    # integration page offers to pin), and when the runners found it. Written without moving updated_at.
    oauth2_token_auth_method_learned = models.CharField(max_length=32, blank=True, default="")
    oauth2_token_auth_method_learned_at = models.DateTimeField(null=True, blank=True)
    # The document's `tls` key (integrations.tls): PEM text; the private key is a secret.
    tls_ca_bundle = models.TextField(blank=True, default="")
    tls_client_certificate = models.TextField(blank=True, default="")
    tls_client_key = EncryptedField(null=True, blank=True)
    # Document extensions: limits on what all workers together send to the endpoint (runners.limits); null: none.
    max_concurrency = models.PositiveIntegerField(null=True, blank=True)
    requests_per_minute = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="integration_name_unique_in_org")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def token_url(self) -> str:
        return self.oauth2_token_url or self.endpoint


class ModelProperty(models.Model):
    """One model served by an integration, with the run parameters it supports."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="models")
    # Denormalised so that the database enforces alias uniqueness per organisation.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=255)
    alias = models.CharField(max_length=255)
    based_on = models.CharField(max_length=255, blank=True, default="")
    # What the document said (None when it gave no list), for reading it back ...
    declared_parameters = models.JSONField(null=True, blank=True)
    # ... and the run parameters in effect (from based_on, the list, or the default).
    supported_parameters = models.JSONField(default=list)
    # The document's `parameter_names` (None when it gave none), and the names in effect (based_on's, then the
    # document's): run parameter -> wire name.
    declared_parameter_names = models.JSONField(null=True, blank=True)
    parameter_names = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["integration", "position"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "alias"], name="model_alias_unique_in_org"),
            models.UniqueConstraint(fields=["integration", "name"], name="model_name_unique_in_integration"),
        ]
        verbose_name_plural = "model properties"

    def __str__(self) -> str:
        return self.alias

    @property
    def is_default(self) -> bool:
        return self.name == self.integration.default_model


class ParameterAction(models.TextChoices):
    RENAME = "rename", "send it under another name"
    DROP = "drop", "do not send it"


class ParameterRule(models.Model):
    """What a provider taught the runners about one parameter of one model: it refused the parameter by name, so
    later runs send it under another name (`rename`, to `to`) or not at all (`drop`). Learned by
    runners.negotiation, listed on the integration's page and the API, cleared or pinned into the document there.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="parameter_rules")
    # The provider name of the model (`name` in the document), as the run sent it.
    model_name = models.CharField(max_length=255)
    # A run parameter (max_tokens) or a wire name of the runner's own (stream_options).
    parameter = models.CharField(max_length=64)
    action = models.CharField(max_length=8, choices=ParameterAction.choices)
    to = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 (null: a drop has no target)
    # The provider's words, scrubbed of secrets and shortened.
    reason = models.TextField(blank=True, default="")
    learned_at = models.DateTimeField(auto_now_add=True)
    # The run whose refusal taught it (a plain id: runners sits above integrations).
    learned_from_run = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["integration", "model_name", "parameter"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "model_name", "parameter"], name="parameter_rule_unique_per_model"
            )
        ]

    def __str__(self) -> str:
        target = f" -> {self.to}" if self.to else ""
        return f"{self.model_name}: {self.action} {self.parameter}{target}"

    def as_applied(self) -> dict:
        """The rule as a run records it in applied_rules."""
        return {"parameter": self.parameter, "action": self.action, "to": self.to, "rule": str(self.uuid)}
