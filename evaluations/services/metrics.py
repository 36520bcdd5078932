"""Writes for metrics: LLM judges and code checks."""

from typing import Any

from core.problems import Invalid, Problem
from evaluations.code_metrics import code_config_clean
from evaluations.judging import prompt_variables
from evaluations.models import Metric, MetricKind
from evaluations.services.common import name_clean
from integrations.selectors import model_get
from organizations.models import Organization
from runners.parameters import validate_parameters

MAX_JUDGES = 10


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
) -> Metric:
    """A metric after checking every field (Invalid lists them all): a unique name, and

    - kind "llm_judge" (the default): a judge model of the organisation, 1 to MAX_JUDGES judges, a prompt that shows
      {{output}}, valid run parameters;
    - kind "code": a valid check in `code` (evaluations.code_metrics.code_config_clean: a pattern that compiles, a
      JSON schema that is one), and no judge model, prompt or parameters.
    """
    errors: list[Problem] = []
    try:
        clean_name = name_clean(name)
    except Invalid as exc:
        errors += exc.errors
        clean_name = ""
    if clean_name and Metric.objects.filter(organization=organization, name=clean_name).exists():
        errors.append(Problem(("name",), f'A metric named "{clean_name}" already exists.', "unique"))
    if kind not in MetricKind.values:
        errors.append(Problem(("kind",), f"One of: {', '.join(MetricKind.values)}.", "enum"))
        raise Invalid(errors)
    if kind == MetricKind.CODE:
        return _code_metric_create(
            organization=organization,
            user=user,
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
    return Metric.objects.create(
        organization=organization,
        name=clean_name,
        created_by=user,
        judge_model=judge_model,
        judges=judges,
        prompt=prompt,
        parameters=clean_parameters,
    )


def _code_metric_create(
    *, organization: Organization, user, name: str, errors: list[Problem], code: Any, unused: dict
) -> Metric:
    for field, value in unused.items():
        if value not in (None, "", {}):
            errors.append(Problem((field,), f"A code metric has no {field.replace('_', ' ')}.", "extra_forbidden"))
    try:
        clean_code = code_config_clean(code)
    except Invalid as exc:
        errors += exc.errors
    if errors:
        raise Invalid(errors)
    return Metric.objects.create(
        organization=organization,
        name=name,
        created_by=user,
        kind=MetricKind.CODE,
        judge_model="",
        judges=0,
        prompt="",
        parameters={},
        code=clean_code,
    )
