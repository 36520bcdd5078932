"""Every way a run can fail, as one enumeration: the values Run.error_type stores and the API's `error.type` shows.

The README's fault table ("Fault tolerance and security") lists each kind; tests/runners/test_failure_kinds.py
checks the two against each other. A new kind is added here and to that table.
"""

from django.db import models


class FailureKind(models.TextChoices):
    # Reaching the provider
    TIMEOUT = "timeout", "a connect, read or run deadline passed"
    CONNECTION_REFUSED = "connection_refused", "nothing listens at the endpoint's port"
    CONNECTION_ERROR = "connection_error", "the connection failed another way"
    DNS_FAILURE = "dns_failure", "the host name does not resolve"
    TLS_ERROR = "tls_error", "the TLS handshake failed"
    BLOCKED_ADDRESS = "blocked_address", "the network policy refuses the address"
    INVALID_URL = "invalid_url", "the URL cannot be parsed"
    INVALID_HEADER = "invalid_header", "a header value the HTTP client refuses to send"
    # The provider's answer
    AUTH_REJECTED = "auth_rejected", "the provider answered 401 or 403"
    MODEL_NOT_FOUND = "model_not_found", "the provider answered 404"
    RATE_LIMITED = "rate_limited", "the provider answered 429"
    PROVIDER_ERROR = "provider_error", "the provider answered 5xx or reported an error mid-stream"
    BAD_REQUEST = "bad_request", "another 4xx, or a redirect"
    INVALID_RESPONSE = "invalid_response", "the body is not JSON"
    MALFORMED_COMPLETION = "malformed_completion", "JSON that is not a Chat Completion"
    RESPONSE_TOO_LARGE = "response_too_large", "the answer is over RUNNERS_MAX_RESPONSE_BYTES"
    LENGTH_WITHOUT_ANSWER = "length_without_answer", "the model hit its token limit before any content or tool call"
    UNSTORABLE_ANSWER = "unstorable_answer", "the database refused the answer even after it was made storable"
    # Credentials
    TOKEN_ENDPOINT_ERROR = "token_endpoint_error", "no OAuth2 token could be had"
    # Custom handlers
    HANDLER_CONFIG = "handler_config", "the handler cannot be loaded or built"
    HANDLER_ERROR = "handler_error", "the handler raised or returned something unusable"
    # The run itself
    INTEGRATION_MISSING = "integration_missing", "the integration was deleted"
    MODEL_MISSING = "model_missing", "the model left the integration"
    WORKER_LOST = "worker_lost", "its worker stopped and nobody finished it"
    CANCELLED = "cancelled", "stopped (the Playground's Stop, POST /runs/{id}/cancel) or an evaluation's Cancel"
    INTERNAL_ERROR = "internal_error", "a bug in the runner"
