"""The connection Test of Settings > Integrations: start one, and its results page. Thin: runners.connection_test."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from integrations.selectors import integration_get
from integrations.views import membership_of
from runners.connection_test import integration_test_get, integration_test_start


def _integration_or_404(request, name):
    integration = integration_get(organization=membership_of(request).organization, name=name)
    if integration is None:
        raise Http404("No such integration.")
    return integration


@login_required
@require_POST
def integration_test(request, name):
    integration = _integration_or_404(request, name)
    job = integration_test_start(integration=integration, user=request.user)
    return redirect("integrations:test-results", name=integration.name, job_id=job.pk)


@login_required
def integration_test_results(request, name, job_id):
    integration = _integration_or_404(request, name)
    found = integration_test_get(integration=integration, job_id=job_id)
    if found is None:
        raise Http404("No such test.")
    summary, runs = found
    context = {"integration": integration, "summary": summary, "runs": runs}
    if request.headers.get("HX-Request") or request.GET.get("partial"):
        # htmx polls this fragment until every run is done (the finished fragment stops the polling).
        return render(request, "integrations/_test_results.html", context)
    return render(request, "integrations/test_results.html", context)
