"""Writes for metrics: LLM judges and code checks, their versions, and their deletion when unused."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.problems import Invalid, Problem
from evaluations.code_metrics import code_config_clean
from evaluations.judging import prompt_variables
from evaluations.models import Metric, MetricKind
from evaluations.selectors import metric_usage
from evaluations.services.common import InUse, created_once, name_clean
from integrations.selectors import model_get
from organizations.models import Organization
from runners.parameters import validate_parameters

MAX_JUDGES = 10
# What an edit may change; `kind` is fixed for a metric's whole lineage.
EDITABLE = ("name", "judge_model", "prompt", "judges", "parameters", "code")
# Names are unique among an organisation's current versions (Metric.Meta.constraints).
NAME_CONSTRAINT = "metric_name_unique_in_org"


def metric_create(
    *,
    organization: Organization,
    user,
    name: Any,
    judge_model: Any = None,
    prompt: Any = None,
    judges: Any = 1,
    parameters: Any = None,
    kind: Any = MetricKind.LLM_JUDGE,
    code: Any = None,
    idempotency: tuple[str, str] | None = None,
) -> Metric:
    """A metric (version 1) after checking every field (Invalid lists them all): a unique name, and

    - kind "llm_judge" (the default): a judge model of the organisation, 1 to MAX_JUDGES judges, a prompt that shows
      {{output}}, valid run parameters;
    - kind "code": a valid check in `code` (evaluations.code_metrics.code_config_clean: a pattern that compiles, a
      JSON schema that is one), and no judge model, prompt or parameters.

    The name is checked again by the database: of two requests saving one name at once, the second gets the same
    Invalid at ("name",) as if it came later. `idempotency` is (key, request digest), set by metric_create_once; a
    key already used raises IntegrityError and nothing is created.
    """
    fields = _metric_fields_clean(
        organization=organization,
        name=name,
        judge_model=judge_model,
        prompt=prompt,
        judges=judges,
        parameters=parameters,
        kind=kind,
        code=code,
    )
    key, digest = idempotency or (None, "")
    with _name_taken_is_invalid(fields["name"]):
        return Metric.objects.create(
            organization=organization, created_by=user, idempotency_key=key, request_digest=digest, **fields
        )


def metric_create_once(
    *, organization: Organization, user, idempotency_key: Any, **request: Any
) -> tuple[Metric, bool]:
    """metric_create once per `idempotency_key`: (the metric, True if this call created it).

    The metrics page's form sends a token made when the form was shown, so that a double click on Save opens the
    metric the first click saved. The rules are evaluation_create_once's: the key is 1 to 255 visible ASCII
    characters, kept per organisation; the same key with the same request gets the first metric, also when both
    arrive at once; the same key with another request raises IdempotencyKeyInvalid (`idempotency_conflict`), as
    does a malformed key. Otherwise raises what metric_create raises.
    """
    return created_once(
        model=Metric,
        organization=organization,
        idempotency_key=idempotency_key,
        request=request,
        create=lambda idempotency: metric_create(
            organization=organization, user=user, idempotency=idempotency, **request
        ),
        what="metric",
        # The twin request committed first: its INSERT broke the key's constraint, or the name's (then an Invalid at
        # "name"), whichever the database checked first.
        twin_errors=(IntegrityError, Invalid),
    )


def metric_update(*, metric: Metric, user, **changes: Any) -> Metric:
    """The metric's next version with `changes` (any of EDITABLE; the others keep the current version's values),
    checked as metric_create checks a new metric. Returns the new current version, or `metric` itself when nothing
    changed.

    The edited version stays as it was (stamped `replaced_at`), so the scores it made and the evaluations that ran
    with it keep naming it. Raises Invalid (with paths as in metric_create, `kind` if a change of kind is asked), and
    Invalid at ("metric",) when `metric` is no longer the current version (someone edited it meanwhile), unless the
    current version is exactly what this edit makes (the same edit sent twice): then that version is returned.
    """
    unknown = [key for key in changes if key not in EDITABLE]
    if unknown:
        raise Invalid(
            [Problem((key,), "Cannot be changed; make a new metric instead.", "read_only") for key in unknown]
        )
    current = {key: getattr(metric, key) for key in EDITABLE}
    if metric.is_code:
        current.update(judge_model=None, prompt=None, parameters=None)
    wanted = {**current, **changes}
    fields = _metric_fields_clean(
        organization=metric.organization, kind=metric.kind, exclude_lineage=metric.lineage, **wanted
    )
    if all(getattr(metric, key) == value for key, value in fields.items()):
        return metric
    with _name_taken_is_invalid(fields["name"]):
        replaced = Metric.objects.filter(pk=metric.pk, replaced_at__isnull=True).update(replaced_at=timezone.now())
        if not replaced:
            current = Metric.objects.filter(lineage=metric.lineage, replaced_at__isnull=True).first()
            if current is not None and all(getattr(current, key) == value for key, value in fields.items()):
                return current  # this very edit, sent twice (a double click on Save): the version the first made
            raise Invalid(
                [Problem(("metric",), "This is not the metric's current version; edit the current one.", "replaced")]
            )
        return Metric.objects.create(
            organization=metric.organization,
            lineage=metric.lineage,
            version=metric.version + 1,
            created_by=user,
            **fields,
        )


@contextmanager
def _name_taken_is_invalid(name: str) -> Iterator[None]:
    """Run the block in a savepoint; the name's unique constraint failing (another request saved a metric of that
    name after our check) becomes the Invalid at ("name",) that the check gives, and nothing of the block is kept."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        # PostgreSQL names the constraint; SQLite its columns ("UNIQUE constraint failed: ...metric.name").
        text = str(exc)
        if NAME_CONSTRAINT not in text and f"{Metric._meta.db_table}.name" not in text:
            raise
        raise Invalid([_name_taken(name)]) from None


def _name_taken(name: str) -> Problem:
    return Problem(("name",), f'A metric named "{name}" already exists.', "unique")


def metric_delete(*, metric: Metric) -> None:
    """Delete the metric, every version of it, when nothing uses any: no evaluation ran with it and no run was
    scored with it. Raises InUse whose message names what uses it (evaluations by name, Playground scores by
    count), and whose `usage` is evaluations.selectors.metric_usage's answer."""
    with transaction.atomic():
        versions = Metric.objects.select_for_update().filter(lineage=metric.lineage, organization=metric.organization)
        # Locked: an evaluation linking a version meanwhile is waited for and then counted below; one that links
        # after the lock fails on the foreign key instead of pointing at a deleted metric.
        list(versions)
        usage = metric_usage(metric=metric)
        if usage["evaluations"] or usage["scored_runs"]:
            raise MetricInUse(metric=metric, usage=usage)
        versions.delete()


class MetricInUse(InUse):
    """A metric that evaluations or Playground scores still refer to; `usage` is metric_usage's answer."""

    def __init__(self, *, metric: Metric, usage: dict) -> None:
        self.usage = usage
        parts = []
        if usage["evaluations"]:
            names = ", ".join(f"“{entry['name']}”" for entry in usage["evaluations"][:10])
            more = len(usage["evaluations"]) - 10
            parts.append(
                f"{len(usage['evaluations'])} evaluation{'s' if len(usage['evaluations']) != 1 else ''} ({names}"
                + (f" and {more} more" if more > 0 else "")
                + ")"
            )
        if usage["scored_runs"]:
            count = usage["scored_runs"]
            parts.append(f"{count} Playground run score{'s' if count != 1 else ''}")
        # "1 evaluation (…) refers to it", "2 evaluations … refer", "1 evaluation and 1 … score refer".
        one = len(usage["evaluations"]) + usage["scored_runs"] == 1
        super().__init__(
            f"The metric “{metric.name}” is in use and cannot be deleted: {' and '.join(parts)} "
            f"refer{'s' if one else ''} to it. "
            "Edit it instead (a new version; what used the old one keeps it)."
        )


def _metric_fields_clean(
    *,
    organization: Organization,
    name: Any,
    judge_model: Any,
    prompt: Any,
    judges: Any,
    parameters: Any,
    kind: Any,
    code: Any,
    exclude_lineage=None,
) -> dict[str, Any]:
    """The model fields of a valid metric, or Invalid listing every problem (see metric_create)."""
    errors: list[Problem] = []
    try:
        clean_name = name_clean(name)
    except Invalid as exc:
        errors += exc.errors
        clean_name = ""
    taken = Metric.objects.filter(organization=organization, name=clean_name, replaced_at__isnull=True)
    if exclude_lineage is not None:
        taken = taken.exclude(lineage=exclude_lineage)
    if clean_name and taken.exists():
        errors.append(_name_taken(clean_name))
    if kind not in MetricKind.values:
        errors.append(Problem(("kind",), f"One of: {', '.join(MetricKind.values)}.", "enum"))
        raise Invalid(errors)
    if kind == MetricKind.CODE:
        return _code_fields_clean(
            name=clean_name,
            errors=errors,
            code=code,
            unused={"judge_model": judge_model, "prompt": prompt, "parameters": parameters},
        )
    if code:
        errors.append(Problem(("code",), 'Only a metric of kind "code" has a code check.', "extra_forbidden"))
    if not isinstance(judge_model, str) or model_get(organization=organization, alias=judge_model) is None:
        errors.append(
            Problem(("judge_model",), "Pick the model that judges (any integration's model).", "unknown_model")
        )
    if isinstance(judges, str) and judges.strip().isdigit():
        judges = int(judges)
    if isinstance(judges, bool) or not isinstance(judges, int) or not 1 <= judges <= MAX_JUDGES:
        errors.append(Problem(("judges",), f"A whole number from 1 to {MAX_JUDGES}.", "int_range"))
    if not isinstance(prompt, str) or not prompt.strip():
        errors.append(Problem(("prompt",), "Write the judge prompt.", "missing"))
    elif "output" not in prompt_variables(prompt):
        errors.append(
            Problem(("prompt",), "The judge prompt must show the judged answer as {{output}}.", "missing_output")
        )
    try:
        clean_parameters = validate_parameters(parameters)
    except Invalid as exc:
        errors += exc.errors
        clean_parameters = {}
    if errors:
        raise Invalid(errors)
    return {
        "name": clean_name,
        "kind": MetricKind.LLM_JUDGE,
        "judge_model": judge_model,
        "judges": judges,
        "prompt": prompt,
        "parameters": clean_parameters,
        "code": {},
    }


def _code_fields_clean(*, name: str, errors: list[Problem], code: Any, unused: dict) -> dict[str, Any]:
    for field, value in unused.items():
        if value not in (None, "", {}):
            errors.append(Problem((field,), f"A code metric has no {field.replace('_', ' ')}.", "extra_forbidden"))
    try:
        clean_code = code_config_clean(code)
    except Invalid as exc:
        errors += exc.errors
    if errors:
        raise Invalid(errors)
    return {
        "name": name,
        "kind": MetricKind.CODE,
        "judge_model": "",
        "judges": 0,
        "prompt": "",
        "parameters": {},
        "code": clean_code,
    }
