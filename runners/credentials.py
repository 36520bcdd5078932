"""Stage 3, credentials: what authenticates a run's requests beyond what the integration holds.

An API key (and every static header) is part of the integration and set by runners.request_building. OAuth2
needs an access token from the token endpoint (runners.auth: client credentials, a token shared by every worker
through the cache): asked for before each attempt, and asked for anew, once, after the provider answers 401.
"""

from dataclasses import dataclass

from integrations.models import AuthenticationType
from runners.auth import ClientCredentials, access_token, client_credentials
from runners.request_building import IntegrationConfig
from runners.transport import Timeouts


@dataclass(frozen=True)
class Credentials:
    """The credential source of one run: OAuth2 client credentials, or nothing to fetch (None)."""

    oauth2: ClientCredentials | None = None

    @property
    def refreshable(self) -> bool:
        """True if a rejected credential can be replaced by fetching a new one."""
        return self.oauth2 is not None

    def token(self, *, timeouts: Timeouts, deadline: float, rejected: str | None = None) -> str | None:
        """The access token to send (None without OAuth2); `rejected` is one the provider just refused.

        Raises TransportError (token_endpoint_error, or timeout) when no token can be had.
        """
        if self.oauth2 is None:
            return None
        return access_token(self.oauth2, timeouts=timeouts, deadline=deadline, rejected=rejected)


NO_CREDENTIALS = Credentials()


def credentials_for(integration: IntegrationConfig) -> Credentials:
    """The run's credential source. Raises TransportError (token_endpoint_error) for an unusable OAuth2 `token`."""
    if integration.authentication_type != AuthenticationType.OAUTH2:
        return NO_CREDENTIALS
    return Credentials(
        oauth2=client_credentials(
            token_url=integration.token_url,
            token_document=integration.token_document,
            scope=integration.authentication_scope,
            auth_method=integration.oauth2_token_auth_method,
            params=integration.oauth2_token_params,
            learned_method=integration.oauth2_token_auth_method_learned,
            integration_id=integration.integration_id,
            tls=integration.tls,
        )
    )


def handler_api_key(integration: IntegrationConfig, *, token: str | None) -> str | None:
    """The api_key a custom handler is called with: the integration's key, or the OAuth2 token."""
    if integration.authentication_type == AuthenticationType.API_KEY:
        return integration.api_key_value
    return token
