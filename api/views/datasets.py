"""Datasets of prompt variables: list, create (JSON or multipart upload), read with a preview, delete."""

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
from evaluations.datasets import FORMATS, MAX_BYTES
from evaluations.selectors import dataset_get, dataset_list, dataset_preview
from evaluations.services.common import InUse
from evaluations.services.datasets import dataset_create, dataset_delete
from evaluations.services.permissions import can_delete

# Room for a 5 MB dataset in a JSON string (escapes make it longer than the file).
DATASET_BODY_BYTES = 2 * MAX_BYTES + 64 * 1024


def _permissions(obj, user) -> list[str]:
    return ["read", "run", "delete"] if can_delete(user=user, obj=obj) else ["read", "run"]


class DatasetOutput(serializers.Serializer):
    id = serializers.UUIDField(source="uuid")
    name = serializers.CharField()
    format = serializers.CharField(source="source_format")
    columns = serializers.ListField(child=serializers.CharField())
    row_count = serializers.IntegerField()
    created_at = TimestampField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    permissions = serializers.SerializerMethodField()

    def get_permissions(self, dataset) -> list[str]:
        return _permissions(dataset, self.context["user"])


class DatasetDetailOutput(DatasetOutput):
    preview = serializers.SerializerMethodField(help_text="The first rows: {index, values}.")

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_preview(self, dataset):
        return [{"index": row.index, "values": row.values} for row in dataset_preview(dataset=dataset)]


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
        summary="List datasets, newest first",
        responses={200: DatasetOutput(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        datasets = dataset_list(organization=self.organization)
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
