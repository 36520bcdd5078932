from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.views import APIView

from api.errors import Unprocessable
from api.permissions import IsOrganizationMember


# An API view for members of an organisation; everything it reads is scoped to that organisation.
# (No docstring: drf-spectacular would show it as every operation's description.)
class OrganizationApi(APIView):
    permission_classes = [IsOrganizationMember]

    @property
    def organization(self):
        return self.request.user.membership.organization

    def validated(self, serializer_class: type[serializers.Serializer], data, *, where: str) -> dict:
        """Validate query, path or body input; problems are a 422 with `loc` starting at `where`."""
        serializer = serializer_class(data=data)
        if not serializer.is_valid():
            raise Unprocessable.from_serializer_errors(serializer.errors, where=where)
        return serializer.validated_data


def found(obj, what: str):
    if obj is None:
        raise NotFound(f"No {what} here.")
    return obj
