"""Template tags that show what the runners did, on pages of apps below them (Settings > Integrations)."""

from django import template

from runners.connection_test import TestSummary, integration_test_summaries
from runners.limits import Usage
from runners.selectors import integration_usages

register = template.Library()


@register.simple_tag(takes_context=True)
def latest_test(context, integration) -> TestSummary | None:
    """`{% latest_test integration as test %}`: the integration's latest connection test, or None.

    The summaries of the organisation's integrations are read once per page render, not once per integration.
    """
    summaries = context.render_context.get("runner_tags.latest_tests")
    if summaries is None or summaries[0] != integration.organization_id:
        summaries = (integration.organization_id, integration_test_summaries(organization=integration.organization_id))
        context.render_context["runner_tags.latest_tests"] = summaries
    return summaries[1].get(integration.pk)


@register.simple_tag(takes_context=True)
def capacity(context, integration) -> Usage | None:
    """`{% capacity integration as usage %}`: what the integration uses now (runners.limits.Usage: runs in flight,
    requests in the last minute, runs waiting for capacity, the concurrency a 429 set), or None without Redis.

    Read once per page render for all the organisation's integrations (runners.selectors.integration_usages).
    """
    usages = context.render_context.get("runner_tags.capacity")
    if usages is None or usages[0] != integration.organization_id:
        usages = (integration.organization_id, integration_usages(organization_id=integration.organization_id))
        context.render_context["runner_tags.capacity"] = usages
    return usages[1].get(integration.pk)
