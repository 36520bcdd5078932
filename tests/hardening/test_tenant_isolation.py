"""Tenant isolation: every route of the URL resolver x GET/POST/PUT/DELETE, tried by the admin and the member of
each of two organisations against the other organisation's objects.

For a route with parameters, the answer for the other organisation's object must be the answer for an object
that does not exist (404 for reads and writes; the same 405/403/302 where the route refuses earlier), and never
mention that object's data. For a route without parameters (lists, creation), the answer must not mention any of
the other organisation's data. At the end, nothing of either organisation has changed. A route whose parameters
this test cannot fill fails the test, so a new route cannot be forgotten.
"""

import re
import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from evaluations.models import Dataset, Evaluation, Metric
from evaluations.services.datasets import dataset_create
from evaluations.services.lifecycle import evaluation_create
from evaluations.services.metrics import metric_create
from integrations.models import Integration, ParameterRule
from integrations.parameter_rules import parameter_rule_learn
from organizations.models import Role
from organizations.services import api_key_issue, user_create
from prompts.models import Prompt, PromptLabel, PromptVersion
from prompts.services import prompt_create, prompt_label_set
from runners.connection_test import integration_test_start
from runners.models import Job, Run
from runners.services import run_enqueue
from tests.factories import make_integration

METHODS = ["GET", "POST", "PUT", "DELETE"]
ROLES = [Role.ADMIN, Role.MEMBER]


def routes() -> list[str]:
    """Every URL pattern as one regex-ish string, walking include()s."""

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    return list(walk(get_resolver().url_patterns, ""))


class Tenant:
    """An organisation with an admin, a member and one object of every kind, each carrying distinctive markers."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.admin = user_create(username=f"{label}-admin", organization_name=f"Org {label}", role=Role.ADMIN)
        self.member = user_create(username=f"{label}-member", organization_name=f"Org {label}", role=Role.MEMBER)
        self.organization = self.admin.membership.organization
        marker = f"private{label}"
        document = {
            "authentication_type": "api_key",
            "api_key_header": "x-api-key",
            "api_key_value": f"sk-{marker}",
            "model_properties": [
                {"name": f"{marker}-model", "alias": f"alias-{label}-q9", "supported_parameters": ["max_tokens"]},
                {"name": f"{marker}-judge", "alias": f"{marker}-judge-alias", "supported_parameters": []},
            ],
            "endpoint": f"http://127.0.0.1:9/{marker}-endpoint/v1",
        }
        self.integration = make_integration(
            organization=self.organization, user=self.admin, name=f"integ-{label}-q9", document=document
        )
        model = self.integration.models.get(alias=f"alias-{label}-q9")
        self.run = run_enqueue(model=model, user=self.admin, messages=[{"role": "user", "content": f"{marker}-prompt"}])
        self.job = integration_test_start(integration=self.integration, user=self.admin)
        self.rule = parameter_rule_learn(
            integration_id=self.integration.pk,
            model_name=f"{marker}-model",
            parameter="max_tokens",
            action="rename",
            to="max_completion_tokens",
            reason=f"{marker}-refusal",
            run_id=str(self.run.pk),
        )
        self.dataset = dataset_create(
            organization=self.organization,
            user=self.admin,
            name=f"{marker}-dataset",
            text=f"question,expected\n{marker}-question,{marker}-answer\n",
            format="csv",
        )
        self.metric = metric_create(
            organization=self.organization,
            user=self.admin,
            name=f"{marker}-metric",
            judge_model=f"{marker}-judge-alias",
            judges=1,
            prompt="Question: {{input}}\nAnswer: {{output}}\nScore it.",
        )
        self.evaluation = evaluation_create(
            organization=self.organization,
            user=self.admin,
            dataset=self.dataset.uuid,
            messages=[{"role": "user", "content": "{{question}}"}],
            models=[{"model": f"alias-{label}-q9"}],
            metrics=[self.metric.uuid],
            name=f"{marker}-evaluation",
        )
        self.prompt = prompt_create(
            organization=self.organization,
            user=self.admin,
            name=f"{marker}-saved-prompt",
            messages=[{"role": "user", "content": f"{marker}-template {{{{question}}}}"}],
        )
        prompt_label_set(prompt=self.prompt, name="production", version=self.prompt.versions.get())
        # Text that only this organisation's data contains (never part of a URL the other side sends).
        self.private = [marker]
        # Identifiers, which a URL may carry: checked in answers of routes without parameters.
        self.identifiers = [
            self.integration.name,
            f"alias-{label}-q9",
            str(self.run.pk),
            str(self.job.pk),
            str(self.evaluation.pk),
            f"/datasets/{self.dataset.uuid}",
            f"/metrics/{self.metric.uuid}",
            str(self.prompt.pk),
        ]

    def parameters(self) -> dict[str, str]:
        return {
            "name": self.integration.name,
            "run_id": str(self.run.pk),
            "job_id": str(self.job.pk),
            "dataset_id": str(self.dataset.uuid),
            "metric_id": str(self.metric.uuid),
            "evaluation_id": str(self.evaluation.pk),
            "object_id": str(self.integration.pk),
            "id": str(self.admin.pk),
            "content_type_id": "1",
            "prompt_id": str(self.prompt.pk),
            "number": "1",
            "label": "production",
            "integration_id": str(self.integration.uuid),
            "rule_id": str(self.rule.uuid),
        }

    def snapshot(self):
        org = self.organization
        return [
            list(Integration.objects.filter(organization=org).values_list("name", "updated_at", "endpoint")),
            list(Run.objects.filter(organization=org).values_list("id", "status", "output")),
            list(Job.objects.filter(organization=org).values_list("id")),
            list(Dataset.objects.filter(organization=org).values_list("id", "name")),
            list(Metric.objects.filter(organization=org).values_list("id", "name")),
            list(Evaluation.objects.filter(organization=org).values_list("id", "cancelled_at", "name")),
            list(Prompt.objects.filter(organization=org).values_list("id", "name", "updated_at")),
            list(PromptVersion.objects.filter(prompt__organization=org).values_list("id", "number", "messages")),
            list(PromptLabel.objects.filter(prompt__organization=org).values_list("name", "version_id")),
            list(ParameterRule.objects.filter(integration__organization=org).values_list("uuid", "action", "to")),
        ]


MISSING = {
    "name": "no-such-integration",
    "run_id": str(uuid.UUID(int=1)),
    "job_id": str(uuid.UUID(int=1)),
    "dataset_id": str(uuid.UUID(int=1)),
    "metric_id": str(uuid.UUID(int=1)),
    "evaluation_id": str(uuid.UUID(int=1)),
    "object_id": "999999",
    "id": "999999",
    "content_type_id": "1",
    "prompt_id": str(uuid.UUID(int=1)),
    "number": "1",
    "label": "production",
    "integration_id": str(uuid.UUID(int=1)),
    "rule_id": str(uuid.UUID(int=1)),
}
PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")
# The catch-all patterns: a path each of them answers.
LITERAL_PATHS = {
    r"api/v2/^[\s\S]*$": "api/v2/no-such-endpoint",
    r"admin/(?P<url>.*)$": "admin/no-such-page/",
    r"admin/^(?P<app_label>auth|organizations|integrations|runners|prompts|evaluations|axes)/$": "admin/integrations/",
}


def fill(route: str, values: dict[str, str]) -> tuple[str, bool]:
    """(path, has_parameters) for a route; KeyError names a parameter this test does not know."""
    if route in LITERAL_PATHS:
        return "/" + LITERAL_PATHS[route], False
    names = [a or b for a, b in PARAMETER.findall(route)]
    path = PARAMETER.sub(lambda m: values[m.group(1) or m.group(2)], route)
    assert "^" not in path and "$" not in path and "(" not in path, f"route {route!r} needs a case in this test"
    return "/" + path, bool(names)


def client(user, path: str):
    if path.startswith("/api/"):
        api = APIClient()
        api.credentials(HTTP_GALILEO_API_KEY=api_key_issue(user=user).raw_key)
        return api
    browser = Client()
    browser.force_login(user)
    return browser


def ask(user, method: str, path: str, body: dict):
    caller = client(user, path)
    if method == "GET":
        return caller.get(path)
    return getattr(caller, method.lower())(path, body, content_type="application/json")


def body_for(victim: Tenant) -> dict:
    """A request body that names the victim's objects wherever an endpoint takes references."""
    alias = victim.integration.models.first().alias
    return {
        "integration": victim.integration.name,
        "model": alias,
        "messages": [{"role": "user", "content": "hi"}],
        "columns": [{"model": alias, "parameters": {}}],
        "dataset": str(victim.dataset.uuid),
        "models": [{"model": alias}],
        "metrics": [str(victim.metric.uuid)],
        "metric": str(victim.metric.uuid),
        "runs": [str(victim.run.pk)],
        "prompt_version": str(victim.prompt.versions.get().pk),
        "version": 1,
    }


@pytest.mark.slow
def test_no_route_lets_one_organisation_reach_anothers_objects(db):
    tenants = [Tenant("a"), Tenant("b")]
    before = [tenant.snapshot() for tenant in tenants]
    all_routes = routes()
    tried, leaks = 0, []
    for victim, attacker in [(tenants[0], tenants[1]), (tenants[1], tenants[0])]:
        body = body_for(victim)
        for route in all_routes:
            path, has_parameters = fill(route, victim.parameters())
            missing_path, _ = fill(route, MISSING)
            for method in METHODS:
                for role in ROLES:
                    user = attacker.admin if role == Role.ADMIN else attacker.member
                    answer = ask(user, method, path, body)
                    content = answer.content.decode("utf-8", "replace")
                    tried += 1
                    where = f"{method} {path} as {attacker.label} {role}"
                    if answer.status_code >= 500:
                        leaks.append(f"{where}: {answer.status_code}")
                    # Identifiers are checked in list answers; other answers may echo what the request named.
                    markers = victim.private + (victim.identifiers if method == "GET" and not has_parameters else [])
                    leaks += [f"{where}: answer mentions {m}" for m in markers if m in content]
                    if has_parameters and path.startswith("/admin/"):
                        # The admin is for staff with model permissions (org admins are staff without any): it
                        # refuses (403) or redirects, and Django's admin redirects for a missing id (see README).
                        if 200 <= answer.status_code < 300:
                            leaks.append(f"{where}: {answer.status_code}")
                    elif has_parameters:
                        expected = ask(user, method, missing_path, body).status_code
                        if answer.status_code != expected or 200 <= answer.status_code < 300:
                            leaks.append(f"{where}: {answer.status_code}, for a missing object {expected}")

    assert [tenant.snapshot() for tenant in tenants] == before
    assert leaks == [], "\n".join(leaks)
    print(
        f"\ntenant isolation: {len(all_routes)} routes x {len(METHODS)} methods x 2 roles x 2 organisations = {tried}"
    )
    assert tried == len(all_routes) * len(METHODS) * len(ROLES) * 2
