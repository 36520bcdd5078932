"""Cursor pagination for runs: stable while new runs arrive (offsets would skip or repeat rows)."""

from django.utils.dateparse import parse_datetime
from rest_framework.pagination import CursorPagination

from api.errors import Unprocessable, problem

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class RunCursorPagination(CursorPagination):
    ordering = "-created_at"
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "limit"
    max_page_size = MAX_PAGE_SIZE

    def decode_cursor(self, request):
        # DRF answers a bad cursor with 404 and would pass any position on to the database;
        # here a cursor is a query parameter like any other, and a bad one is a 422.
        try:
            cursor = super().decode_cursor(request)
            valid = cursor is None or cursor.position is None or parse_datetime(cursor.position) is not None
        except Exception:
            valid = False
        if not valid:
            raise Unprocessable(
                [
                    problem(
                        ["query", "cursor"], "Not a cursor from this list; use the `next` or `previous` link.", "cursor"
                    )
                ]
            )
        return cursor
