"""Stage 2, build: what a claimed run needs to go out, read before the network wait.

The integration comes from the worker's cache (runners.integration_cache), keyed by the version the claim
returned, so a run costs no query here while its integration is unchanged.
"""

from runners.failures import FailureKind
from runners.integration_cache import integration_config
from runners.models import Run
from runners.request_building import RunTarget
from runners.transport import TransportError


def _optional_id(value) -> str | None:
    return str(value) if value else None


def run_target_build(*, run: Run) -> RunTarget:
    """The RunTarget of a claimed run (as run_claim returned it, with integration_version).

    Raises TransportError (permanent): integration_missing if the integration was deleted, model_missing if the
    run's model is no longer one of its models.
    """
    config = integration_config(run.integration_id, run.integration_version) if run.integration_id else None
    if config is None:
        raise TransportError(
            "The integration of this run has been deleted.",
            permanent=True,
            error_type=FailureKind.INTEGRATION_MISSING,
        )
    supported_parameters = config.supported_parameters.get(run.model_name)
    if supported_parameters is None:
        raise TransportError(
            f'The model "{run.model_name}" is no longer part of integration "{config.name}".',
            permanent=True,
            error_type=FailureKind.MODEL_MISSING,
        )
    return RunTarget(
        run_id=str(run.pk),
        job_id=_optional_id(run.job_id),
        user_id=_optional_id(run.user_id),
        project_id=_optional_id(run.project_id),
        model_name=run.model_name,
        messages=run.messages,
        parameters=run.parameters,
        supported_parameters=supported_parameters,
        stream=run.stream,
        integration=config,
        parameter_names=config.parameter_names.get(run.model_name, {}),
        rules=tuple(run.applied_rules or ()),
        integration_id=run.integration_id,
    )
