from rest_framework import authentication, exceptions

from organizations.services import api_key_authenticate, api_key_digest


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Galileo-API-Key: KEY` or `Authorization: Bearer KEY`; `request.auth` is the key's digest (for throttling)."""

    keyword = "Bearer"

    def authenticate(self, request):
        raw_key = request.headers.get("Galileo-API-Key")
        if raw_key is None:
            header = request.headers.get("Authorization", "")
            scheme, _, credentials = header.partition(" ")
            if scheme.lower() != self.keyword.lower() or not credentials.strip():
                return None
            raw_key = credentials.strip()
        user = api_key_authenticate(raw_key=raw_key.strip())
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return (user, api_key_digest(raw_key.strip()))

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
