from rest_framework.permissions import BasePermission


def organization_of(user):
    membership = getattr(user, "membership", None)
    return membership.organization if membership is not None else None


class IsOrganizationMember(BasePermission):
    """Signed in (401 otherwise) and a member of an organisation (403 otherwise)."""

    message = "Your account does not belong to an organisation; ask an admin to add you to one."

    def has_permission(self, request, view):
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        return getattr(user, "membership", None) is not None
