"""A Content-Security-Policy header on every page (the pages' own scripts and styles, nothing inline, no framing), and
every page a user visits works in Chromium with no CSP violation reported on the console."""

import pytest

from tests.browser.conftest import browser, log_in, page  # noqa: F401 (fixtures)
from tests.factories import make_integration
from tests.runners.conftest import provider_document

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}


def directives(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/", "/api/v2/integrations"])
def test_every_answer_carries_the_policy(client, path):
    policy = directives(client.get(path)["Content-Security-Policy"])
    assert {name: policy.get(name) for name in POLICY} == POLICY
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in policy["script-src"]


@pytest.fixture
def site(org, admin_user, openai_server):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    make_integration(organization=org, user=admin_user, name="custom", document=provider_document(openai_server.url))
    return org


PAGES = [
    "/settings/integrations",
    "/settings/integrations/custom/new",
    "/settings/integrations/custom/custom/edit",
    "/playground",
    "/evaluations",
    "/evaluations/new",
    "/evaluations/datasets",
    "/evaluations/metrics",
    "/admin/",
    "/admin/integrations/integration/add/",
    "/api/v2/docs",
]


@pytest.mark.browser
@pytest.mark.slow
def test_every_page_works_in_chromium_with_no_csp_violation(page, live_server, site, admin_user):  # noqa: F811
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}") if "Content Security Policy" in message.text else None
        ),
    )
    log_in(page, admin_user.username)
    for path in PAGES:
        answer = page.goto(path)
        page.wait_for_load_state("networkidle")
        assert answer.status == 200, path
    # Scripts really ran: the editor numbered its lines, the Playground listed the model, the API docs rendered.
    page.goto("/settings/integrations/custom/custom/edit")
    assert page.locator(".gutter").inner_text().strip().startswith("1")
    page.goto("/playground")
    assert page.get_by_label("Model").locator("option").count() >= 1
    page.goto("/api/v2/docs")
    page.wait_for_selector(".swagger-ui .info", timeout=10_000)

    assert violations == []
