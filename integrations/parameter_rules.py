"""Learned parameter rules (integrations.ParameterRule): reads, learning, clearing and pinning into the document.

The runners learn a rule when a provider refuses a parameter by name (runners.negotiation); people see the rules
on the integration's page and in the API, and clear one or pin it into the document. Pinning edits the stored
document through integration_upsert, so validation, the ETag and the secrets are handled as for any save.
"""

from django.db import IntegrityError, transaction

from core.problems import Invalid, Problem
from integrations.catalogue import RUN_PARAMETERS
from integrations.models import Integration, ParameterAction, ParameterRule
from integrations.services import integration_document, integration_upsert

MAX_REASON_LENGTH = 1000


def parameter_rule_list(*, integration: Integration) -> list[ParameterRule]:
    """The integration's rules, by model (in the document's order) then parameter."""
    positions = {model.name: model.position for model in integration.models.all()}
    rules = list(ParameterRule.objects.filter(integration=integration))
    rules.sort(key=lambda rule: (positions.get(rule.model_name, len(positions)), rule.parameter))
    return rules


def parameter_rule_get(*, integration: Integration, rule_uuid) -> ParameterRule | None:
    return ParameterRule.objects.filter(integration=integration, uuid=rule_uuid).first()


def parameter_rules_applied(*, integration_ids: set[int], model_names: set[str]) -> dict[tuple[int, str], list[dict]]:
    """Rules by (integration id, model name), each as a run records it (ParameterRule.as_applied); one query."""
    rules: dict[tuple[int, str], list[dict]] = {}
    found = ParameterRule.objects.filter(integration_id__in=integration_ids, model_name__in=model_names)
    for rule in found.order_by("parameter"):
        rules.setdefault((rule.integration_id, rule.model_name), []).append(rule.as_applied())
    return rules


def parameter_rule_learn(
    *,
    integration_id: int,
    model_name: str,
    parameter: str,
    action: str,
    to: str | None,
    reason: str,
    run_id: str | None,
) -> ParameterRule | None:
    """Store what a provider's refusal taught; the rule for the same model and parameter is replaced.

    Runs that learn the same rule at the same moment make one (a unique constraint; the loser reads the winner's).
    `reason` must already be scrubbed of secrets. None if the integration was deleted meanwhile.
    """
    values = {"action": action, "to": to, "reason": reason[:MAX_REASON_LENGTH], "learned_from_run": run_id}
    if not Integration.objects.filter(pk=integration_id).exists():
        return None  # deleted while the run was out (SQLite would only check the foreign key at commit)
    try:
        rule, created = ParameterRule.objects.get_or_create(
            integration_id=integration_id, model_name=model_name, parameter=parameter, defaults=values
        )
    except (IntegrityError, ParameterRule.DoesNotExist):
        return None  # the integration is gone
    if not created and (rule.action, rule.to) != (action, to):
        for name, value in values.items():
            setattr(rule, name, value)
        rule.save(update_fields=[*values])
    return rule


def parameter_rule_clear(*, rule: ParameterRule) -> None:
    """Forget the rule: later runs send the parameter as the document says (and may learn it again)."""
    rule.delete()


def parameter_rule_pin(*, rule: ParameterRule, user) -> Integration:
    """Write the rule into the integration's document and forget it: a rename becomes the model's
    `parameter_names`, a drop removes the parameter from its `supported_parameters` (a model `based_on` a
    built-in gets the built-in's list, without it, and its parameter names).

    Raises Invalid (loc ("rule",), type not_pinnable) for a drop of a key that is not a run parameter
    (stream_options: there is no document key for it), or the document's own problems.
    """
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=rule.integration_id)
        model = integration.models.filter(name=rule.model_name).first()
        if model is None:
            raise Invalid([Problem(("rule",), f'The model "{rule.model_name}" is no longer in the document.')])
        if rule.parameter not in RUN_PARAMETERS:
            raise Invalid(
                [
                    Problem(
                        ("rule",),
                        f'"{rule.parameter}" is not a run parameter, so the document cannot say it; the rule stays '
                        "in effect as learned.",
                        "not_pinnable",
                    )
                ]
            )
        document = integration_document(integration=integration)  # secrets as placeholders: the upsert keeps them
        entry = next(entry for entry in document["model_properties"] if entry["name"] == rule.model_name)
        names = dict(entry.get("parameter_names") or {})
        if rule.action == ParameterAction.RENAME:
            names[rule.parameter] = rule.to
        else:
            if entry.pop("based_on", None):
                names = {**model.parameter_names, **names}
            entry["supported_parameters"] = [name for name in model.supported_parameters if name != rule.parameter]
            names.pop(rule.parameter, None)
        if names:
            entry["parameter_names"] = names
        else:
            entry.pop("parameter_names", None)
        saved = integration_upsert(
            organization=integration.organization, user=user, name=integration.name, document=document
        )
        rule.delete()
    return saved
