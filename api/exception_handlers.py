"""The one place where errors become HTTP responses (every body is JSON with a `detail`)."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from api.errors import PreconditionFailed, Unprocessable, problem
from core.problems import Invalid
from integrations.services import IntegrationChanged

logger = logging.getLogger(__name__)


def api_exception_handler(exc, context):
    if isinstance(exc, Invalid):
        exc = Unprocessable.from_document_errors(exc.errors)
    elif isinstance(exc, exceptions.ParseError):
        # Like every other problem with the body, malformed JSON is a 422 in the list shape.
        exc = Unprocessable([problem(["body"], str(exc.detail), "json_invalid")])
    elif isinstance(exc, exceptions.ValidationError):
        exc = Unprocessable.from_serializer_errors(exc.detail, where="body")
    elif isinstance(exc, IntegrationChanged):
        exc = PreconditionFailed()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, Unprocessable):
        set_rollback()
        return Response({"detail": exc.problems}, status=exc.status_code)

    response = exception_handler(exc, context)
    if response is None:
        # A bug, not the client's fault: keep the traceback in the log and answer in the API's shape.
        logger.exception("Unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
        set_rollback()
        return Response({"detail": "Internal server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return response
