"""Who may do what with an integration (DESIGN.md §5)."""

from integrations.models import Integration

READ = "read"
USE = "use"
UPDATE = "update"
DELETE = "delete"
READ_SECRETS = "read_secrets"


def integration_permissions(*, integration: Integration, user) -> list[str]:
    membership = getattr(user, "membership", None)
    if membership is None or membership.organization_id != integration.organization_id:
        return []
    permissions = [READ, USE]
    if membership.is_admin or integration.created_by_id == user.pk:
        permissions += [UPDATE, DELETE, READ_SECRETS]
    return permissions


def can_create_integrations(*, user) -> bool:
    """Admins and members may both add integrations (they become its creator)."""
    return getattr(user, "membership", None) is not None
