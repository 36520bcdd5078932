"""Writes for LLM-as-judge metrics."""

from typing import Any

from core.problems import Invalid, Problem
from evaluations.judging import prompt_variables
from evaluations.models import Metric
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
    judge_model: Any,
    prompt: Any,
    judges: Any = 1,
    parameters: Any = None,
) -> Metric:
    """A metric after checking every field (Invalid lists them all): a unique name, a judge model of the
    organisation, 1 to MAX_JUDGES judges, a prompt that shows {{output}}, valid run parameters."""
    errors: list[Problem] = []
    try:
        clean_name = name_clean(name)
    except Invalid as exc:
        errors += exc.errors
        clean_name = ""
    if clean_name and Metric.objects.filter(organization=organization, name=clean_name).exists():
        errors.append(Problem(("name",), f'A metric named "{clean_name}" already exists.', "unique"))
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
