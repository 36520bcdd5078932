"""Datasets of prompt variables: list (latest versions), create (JSON or multipart upload), read with a preview and
its versions, browse rows a page at a time, add rows (a new version), download, delete."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from api.errors import Unprocessable, problem
from api.parsers import JSONParser
from api.schema import error_responses
from api.serializers import StrictCharField, TimestampField
from api.views.base import OrganizationApi, found
from evaluations.dataset_export import dataset_download_response
from evaluations.dataset_selectors import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    dataset_latest_list,
    dataset_rows_page,
    dataset_versions,
)
from evaluations.datasets import FORMATS, MAX_BYTES
from evaluations.selectors import dataset_get, dataset_preview
from evaluations.services.common import InUse
from evaluations.services.datasets import (
    DEFAULT_OUTPUT_COLUMN,
    NotLatestVersion,
    dataset_add_rows,
    dataset_add_run_row,
    dataset_create,
    dataset_delete,
)
from evaluations.services.permissions import can_delete

# Room for a 5 MB dataset in a JSON string (escapes make it longer than the file).
DATASET_BODY_BYTES = 2 * MAX_BYTES + 64 * 1024


def _permissions(obj, user) -> list[str]:
    return ["read", "run", "delete"] if can_delete(user=user, obj=obj) else ["read", "run"]


class DatasetOutput(serializers.Serializer):
    id = serializers.UUIDField(source="uuid")
    name = serializers.CharField()
    version = serializers.IntegerField(help_text="1 for an upload; each addition of rows makes the next version.")
    lineage = serializers.UUIDField(help_text="Shared by every version of this dataset: its first version's id.")
    format = serializers.CharField(source="source_format")
    columns = serializers.ListField(child=serializers.CharField())
    row_count = serializers.IntegerField()
    created_at = TimestampField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    permissions = serializers.SerializerMethodField()

    def get_permissions(self, dataset) -> list[str]:
        return _permissions(dataset, self.context["user"])


class DatasetVersionOutput(serializers.Serializer):
    id = serializers.UUIDField(source="uuid")
    version = serializers.IntegerField()
    row_count = serializers.IntegerField()
    created_at = TimestampField()


class DatasetDetailOutput(DatasetOutput):
    preview = serializers.SerializerMethodField(help_text="The first rows: {index, values}.")
    versions = serializers.SerializerMethodField(help_text="Every version of this dataset, the latest first.")

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_preview(self, dataset):
        return [{"index": row.index, "values": row.values} for row in dataset_preview(dataset=dataset)]

    @extend_schema_field(DatasetVersionOutput(many=True))
    def get_versions(self, dataset):
        return DatasetVersionOutput(dataset_versions(dataset=dataset), many=True).data


class DatasetRowOutput(serializers.Serializer):
    index = serializers.IntegerField(help_text="The row's number, from 1.")
    values = serializers.JSONField(help_text="Column name to value, as stored (JSON Lines objects and lists kept).")
    source_run = serializers.UUIDField(
        source="source_run_id", allow_null=True, help_text="The Playground run the row was made from, if any."
    )


class DatasetRowsPageOutput(serializers.Serializer):
    count = serializers.IntegerField(help_text="Rows in the dataset.")
    page = serializers.IntegerField(source="number")
    page_size = serializers.IntegerField(source="size")
    pages = serializers.IntegerField()
    results = DatasetRowOutput(source="rows", many=True)


class DatasetsApi(OrganizationApi):
    parser_classes = [JSONParser, MultiPartParser]
    max_body_bytes = DATASET_BODY_BYTES

    class DatasetCreateInput(serializers.Serializer):
        name = StrictCharField(max_length=200, required=False, allow_blank=True)
        format = serializers.ChoiceField(choices=[*FORMATS, "auto"], required=False, default="auto")
        content = StrictCharField(required=False, trim_whitespace=False, help_text="CSV or JSONL text.")
        file = serializers.FileField(required=False, help_text="multipart/form-data upload instead of content.")

    @extend_schema(
        operation_id="datasets_list",
        summary="List datasets (the latest version of each), newest first",
        responses={200: DatasetOutput(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        datasets = dataset_latest_list(organization=self.organization)
        return Response(DatasetOutput(datasets, many=True, context={"user": request.user}).data)

    @extend_schema(
        operation_id="datasets_create",
        summary="Create a dataset from CSV (header row first) or JSONL (one object per line)",
        description=(
            'JSON `{"name", "format": "csv"|"jsonl"|"auto", "content"}` or multipart with a `file`. Problems in the '
            'data are a 422 per row and column: `loc` `["body", "rows", 3, "question"]` for row 3 (counted from 1, '
            "without the CSV header)."
        ),
        request=DatasetCreateInput,
        responses={201: DatasetDetailOutput, **error_responses(401, 403, 413, 422)},
    )
    def post(self, request):
        data = self.validated(self.DatasetCreateInput, request.data, where="body")
        upload = data.get("file")
        if upload is None and "content" not in data:
            raise Unprocessable([problem(["body", "content"], "Send the data as content or as a file.", "missing")])
        if upload is not None and upload.size > MAX_BYTES:
            raise Unprocessable([problem(["body", "file"], f"The file is larger than {MAX_BYTES} bytes.", "too_large")])
        dataset = dataset_create(
            organization=self.organization,
            user=request.user,
            name=data.get("name"),
            text=data.get("content"),
            data=upload.read() if upload is not None else None,
            format=data["format"],
            file_name=upload.name if upload is not None else "",
        )
        return Response(
            DatasetDetailOutput(dataset, context={"user": request.user}).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v2/datasets/{dataset.uuid}"},
        )


class DatasetDetailApi(OrganizationApi):
    @extend_schema(
        operation_id="datasets_get",
        summary="A dataset with a preview of its first rows",
        responses={200: DatasetDetailOutput, **error_responses(401, 403, 404)},
    )
    def get(self, request, dataset_id):
        dataset = found(dataset_get(organization=self.organization, dataset_id=dataset_id), "dataset")
        return Response(DatasetDetailOutput(dataset, context={"user": request.user}).data)

    @extend_schema(
        operation_id="datasets_delete",
        summary="Delete a dataset (admins and its creator; not while evaluations use it: 409)",
        responses={204: None, **error_responses(401, 403, 404), 409: OpenApiResponse(description="In use.")},
    )
    def delete(self, request, dataset_id):
        dataset = found(dataset_get(organization=self.organization, dataset_id=dataset_id), "dataset")
        if not can_delete(user=request.user, obj=dataset):
            raise PermissionDenied("Only admins and the dataset's creator may delete it.")
        try:
            dataset_delete(dataset=dataset)
        except InUse as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DatasetRowsApi(OrganizationApi):
    parser_classes = [JSONParser]
    max_body_bytes = DATASET_BODY_BYTES

    class RowsQuery(serializers.Serializer):
        page = serializers.IntegerField(min_value=1, required=False, default=1)
        page_size = serializers.IntegerField(
            min_value=1, max_value=MAX_PAGE_SIZE, required=False, default=DEFAULT_PAGE_SIZE
        )

    class RowsInput(serializers.Serializer):
        rows = serializers.JSONField(
            required=False, help_text="A list of objects with exactly the dataset's columns, validated as an upload's."
        )
        from_run = serializers.UUIDField(
            required=False, help_text="A Playground run: its variables and its answer make the row."
        )
        output_column = StrictCharField(
            required=False,
            default=DEFAULT_OUTPUT_COLUMN,
            help_text="With from_run: the column that takes the run's answer.",
        )

    @extend_schema(
        operation_id="datasets_rows_list",
        summary="A page of the dataset's rows, in order",
        parameters=[RowsQuery],
        responses={200: DatasetRowsPageOutput, **error_responses(401, 403, 404, 422)},
    )
    def get(self, request, dataset_id):
        dataset = found(dataset_get(organization=self.organization, dataset_id=dataset_id), "dataset")
        query = self.validated(self.RowsQuery, request.query_params, where="query")
        page = dataset_rows_page(dataset=dataset, page=query["page"], size=query["page_size"])
        if page.number > page.pages:
            raise Unprocessable(
                [problem(["query", "page"], f"The dataset has {page.pages} page(s) of this size.", "out_of_range")]
            )
        return Response(DatasetRowsPageOutput(page).data)

    @extend_schema(
        operation_id="datasets_rows_add",
        summary="Add rows: the next version of the dataset (this one is not changed)",
        description=(
            'Either `{"rows": [{column: value, ...}]}` or `{"from_run": "<run id>", "output_column": "expected"}` '
            "(a Playground run's variables, and its answer in `output_column`). Rows are added to the latest version "
            "only: adding to an older one is a 409 naming the latest. A problem in a row is a 422 with "
            '`loc` `["body", "rows", 0, "question"]`.'
        ),
        request=RowsInput,
        responses={
            201: DatasetDetailOutput,
            **error_responses(401, 403, 404, 413, 422),
            409: OpenApiResponse(description="Not the latest version."),
        },
    )
    def post(self, request, dataset_id):
        dataset = found(dataset_get(organization=self.organization, dataset_id=dataset_id), "dataset")
        data = self.validated(self.RowsInput, request.data, where="body")
        if ("rows" in data) == ("from_run" in data):
            raise Unprocessable([problem(["body"], "Send either rows or from_run.", "missing")])
        try:
            if "from_run" in data:
                version = dataset_add_run_row(
                    dataset=dataset, user=request.user, run_id=data["from_run"], output_column=data["output_column"]
                )
            else:
                version = dataset_add_rows(dataset=dataset, user=request.user, rows=data["rows"])
        except NotLatestVersion as exc:
            return Response({"detail": str(exc), "latest": str(exc.latest.uuid)}, status=status.HTTP_409_CONFLICT)
        return Response(
            DatasetDetailOutput(version, context={"user": request.user}).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v2/datasets/{version.uuid}"},
        )


class DatasetDownloadApi(OrganizationApi):
    def perform_content_negotiation(self, request, force=False):
        # The answer is a file, not a rendered representation: an Accept of text/csv must not be a 406.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="datasets_download",
        summary="The dataset as stored: CSV (UTF-8 with a byte order mark, formulas escaped) or JSON Lines",
        responses={
            200: OpenApiResponse(
                description="A file, streamed: text/csv for a CSV dataset, application/jsonl for a JSON Lines one."
            ),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request, dataset_id):
        dataset = found(dataset_get(organization=self.organization, dataset_id=dataset_id), "dataset")
        return dataset_download_response(dataset)
