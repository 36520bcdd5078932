"""Writes for datasets: create one from pasted text or an upload, add rows (a new version), delete one that no
evaluation uses.

Versions: a dataset's rows never change. Adding rows, whether or not an evaluation uses the dataset yet, always makes
the next version, so that any two evaluations of one version are over the same rows (issue 20) and nobody has to
ask whether a version was in use when it changed.
"""

import uuid
from typing import Any

from django.db import IntegrityError, transaction

from core.problems import Invalid, Problem
from evaluations.datasets import check_new_rows, decode, parse_dataset
from evaluations.models import Dataset, DatasetRow
from evaluations.services.common import InUse, name_clean
from organizations.models import Organization
from prompts.templating import NAME_RE
from runners.models import Run, RunStatus

DEFAULT_OUTPUT_COLUMN = "expected"


class NotLatestVersion(Exception):
    """Rows are added to the latest version of a dataset only; `latest` is that version."""

    def __init__(self, dataset: Dataset, latest: Dataset):
        self.latest = latest
        super().__init__(
            f"Version {dataset.version} of “{dataset.name}” is not its latest: version {latest.version} (id "
            f"{latest.uuid}) is. Add rows to that version."
        )


def dataset_create(
    *,
    organization: Organization,
    user,
    name: Any,
    text: str | None = None,
    data: bytes | None = None,
    format: str | None = None,
    file_name: str = "",
) -> Dataset:
    """A dataset from pasted text or uploaded bytes (CSV or JSONL); Invalid lists its row/column errors."""
    errors: list[Problem] = []
    try:
        clean_name = name_clean(name, default=file_name.rsplit("/", 1)[-1])
    except Invalid as exc:
        errors += exc.errors
    try:
        if data is not None:
            text = decode(data)
        if not isinstance(text, str):
            raise Invalid([Problem(("content",), "Upload a file or paste the data.", "missing")])
        parsed = parse_dataset(text=text, format=format, file_name=file_name)
    except Invalid as exc:
        errors += exc.errors
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        public_id = uuid.uuid4()
        dataset = Dataset.objects.create(
            uuid=public_id,
            lineage=public_id,
            organization=organization,
            name=clean_name,
            created_by=user,
            columns=parsed.columns,
            row_count=len(parsed.rows),
            source_format=parsed.format,
        )
        DatasetRow.objects.bulk_create(
            [DatasetRow(dataset=dataset, index=index, values=values) for index, values in enumerate(parsed.rows, 1)],
            batch_size=1000,
        )
    return dataset


def dataset_delete(*, dataset: Dataset) -> None:
    used = dataset.evaluations.count()
    if used:
        raise InUse(f"The dataset is used by {used} evaluation(s); it is kept so that their results stay readable.")
    dataset.delete()


def dataset_add_rows(*, dataset: Dataset, user, rows: Any, source_run_id: uuid.UUID | None = None) -> Dataset:
    """The next version of `dataset`: its rows (same indexes) followed by `rows`, in one transaction.

    `rows` is a list of objects with exactly the dataset's columns, validated as an upload's values
    (evaluations.datasets.check_new_rows); `source_run_id` is recorded on them when they come from a run. Raises
    Invalid (loc ("rows", index, column)) or NotLatestVersion when a later version exists (also when another request
    made one meanwhile), so that versions form one line and no
    added row is lost. The dataset itself is not changed.
    """
    with transaction.atomic():
        # Concurrent additions to one version queue here; the second then finds the first's version below.
        locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
        latest = _latest_version(locked)
        if latest.pk != locked.pk:
            raise NotLatestVersion(locked, latest)
        values = check_new_rows(rows, columns=locked.columns, format=locked.source_format, existing=locked.row_count)
        try:
            with transaction.atomic():
                version = Dataset.objects.create(
                    organization=locked.organization,
                    lineage=locked.lineage,
                    version=locked.version + 1,
                    name=locked.name,
                    created_by=user,
                    columns=locked.columns,
                    row_count=locked.row_count + len(values),
                    source_format=locked.source_format,
                )
        except IntegrityError:  # dataset_version_unique: another request made this version first
            raise NotLatestVersion(locked, _latest_version(locked)) from None
        stored = locked.rows.order_by("index").values_list("index", "values", "source_run_id").iterator(1000)
        copied = (DatasetRow(dataset=version, index=index, values=row, source_run_id=run) for index, row, run in stored)
        DatasetRow.objects.bulk_create(copied, batch_size=1000)
        DatasetRow.objects.bulk_create(
            [
                DatasetRow(dataset=version, index=index, values=row, source_run_id=source_run_id)
                for index, row in enumerate(values, start=locked.row_count + 1)
            ],
            batch_size=1000,
        )
    return version


def _latest_version(dataset: Dataset) -> Dataset:
    return Dataset.objects.filter(lineage=dataset.lineage).order_by("-version").first()


def dataset_row_from_run(
    *, dataset: Dataset, organization: Organization, run_id: Any, output_column: Any
) -> dict[str, Any]:
    """A row for `dataset` from a Playground run: the values of its variables (its Job's `variables`) and its answer
    (the run's `output`) under `output_column` (a column of the dataset, such as "expected").

    Raises Invalid: ("from_run",) for an unknown run (also another organisation's) or one without an answer,
    ("output_column",) for a column the dataset does not have, ("from_run", "variables", name) for a variable that
    is not a column or a column that is neither a variable nor `output_column`.
    """
    run = _run_of(organization, run_id)
    if run is None:
        raise Invalid([Problem(("from_run",), "No such run here.", "not_found")])
    if run.status != RunStatus.SUCCEEDED or run.output is None:
        raise Invalid(
            [Problem(("from_run",), f"The run has no answer to add (it is {run.status}).", "run_not_succeeded")]
        )
    known = ", ".join(f"'{name}'" for name in dataset.columns)
    if not isinstance(output_column, str) or not NAME_RE.fullmatch(output_column):
        raise Invalid([Problem(("output_column",), "Give the column that takes the run's answer.", "missing")])
    if output_column not in dataset.columns:
        raise Invalid(
            [
                Problem(
                    ("output_column",),
                    f"'{output_column}' is not a column of this dataset (its columns: {known}).",
                    "unexpected_column",
                )
            ]
        )
    variables = (run.job.variables if run.job_id else None) or {}
    errors: list[Problem] = []
    if output_column in variables:
        errors.append(
            Problem(
                ("output_column",),
                f"'{output_column}' is also a variable of the run; pick the column for its answer.",
                "duplicate_column",
            )
        )
    for name in variables:
        if name not in dataset.columns:
            errors.append(
                Problem(
                    ("from_run", "variables", name),
                    f"The run's variable '{name}' is not a column of this dataset (its columns: {known}).",
                    "unexpected_column",
                )
            )
    for name in dataset.columns:
        if name != output_column and name not in variables:
            errors.append(
                Problem(
                    ("from_run", "variables", name),
                    f"The dataset's column '{name}' is not a variable of the run, so the row would have no value "
                    "for it.",
                    "missing",
                )
            )
    if errors:
        raise Invalid(errors)
    return {**variables, output_column: run.output}


def _run_of(organization: Organization, run_id: Any) -> Run | None:
    try:
        run_id = uuid.UUID(str(run_id))
    except ValueError:
        return None
    return Run.objects.select_related("job").filter(organization=organization, pk=run_id).first()


def dataset_add_run_row(*, dataset: Dataset, user, run_id: Any, output_column: Any) -> Dataset:
    """dataset_add_rows with the one row dataset_row_from_run makes; a problem with one of its values (such as an
    answer longer than an upload's cell may be) is reported at ("from_run", column)."""
    row = dataset_row_from_run(
        dataset=dataset, organization=dataset.organization, run_id=run_id, output_column=output_column
    )
    try:
        return dataset_add_rows(dataset=dataset, user=user, rows=[row], source_run_id=uuid.UUID(str(run_id)))
    except Invalid as exc:
        raise Invalid(
            [
                Problem(("from_run", *error.loc[2:]), error.message.replace("rows[0]: ", "", 1), error.type)
                if error.loc[:2] == ("rows", 0)
                else error
                for error in exc.errors
            ]
        ) from None
