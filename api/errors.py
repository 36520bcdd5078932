"""HTTP errors of the API and the one shape of a validation error.

Every error body is JSON with a `detail`: a sentence for most errors, and for a
422 a list of problems, each `{"loc": [...], "msg": "...", "type": "..."}`
where `loc` starts with where the problem is (`body`, `query` or `path`).
"""

from rest_framework import status
from rest_framework.exceptions import APIException, ErrorDetail

from core.problems import Problem, problem, problems_from_errors


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"

    def __init__(self, limit: int):
        super().__init__(f"The request body is larger than {limit} bytes ({limit // 1024} KiB), the limit here.")


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"
    default_detail = (
        "The integration changed since you read it (its ETag no longer matches If-Match): read it again, apply your "
        "change to that version, and send it with the new ETag."
    )


class Unprocessable(APIException):
    """422 with the list of problems; build it with from_document_errors or from_serializer_errors."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "invalid"

    def __init__(self, problems: list[dict]):
        self.problems = problems
        super().__init__("The request is invalid.")

    @classmethod
    def from_document_errors(cls, errors: list[Problem], *, where: str = "body") -> "Unprocessable":
        return cls(problems_from_errors(errors, where=where))

    @classmethod
    def from_serializer_errors(cls, errors, *, where: str) -> "Unprocessable":
        return cls(list(_flatten(errors, [where])))


def _flatten(errors, loc: list):
    """DRF's nested serializer errors as a flat list of problems with paths."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from _flatten(value, loc if key == "non_field_errors" else [*loc, key])
    elif isinstance(errors, list):
        if all(isinstance(item, str) for item in errors):
            for item in errors:
                yield problem(loc, str(item), getattr(item, "code", None) or "invalid")
        else:
            for index, item in enumerate(errors):
                if item:
                    yield from _flatten(item, [*loc, index])
    elif isinstance(errors, ErrorDetail | str):
        yield problem(loc, str(errors), getattr(errors, "code", None) or "invalid")
