"""Ids that reveal nothing (issue 14 item 9): integrations, datasets and metrics are shown and addressed by UUIDs.

Their sequential primary keys stay inside (foreign keys, the runners' integration cache) and are refused wherever
a user or a script could send one: 404 in a path, 422 in a body, ignored in a sort key.
"""

import re
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from evaluations.models import Dataset, Metric, MetricScore, ScoreStatus
from evaluations.services.datasets import dataset_create
from evaluations.services.lifecycle import evaluation_create
from evaluations.services.metrics import metric_create
from integrations.models import Integration
from prompts.services import prompt_create
from runners.models import Run
from tests.api.conftest import client_for
from tests.evaluations.conftest import finish
from tests.factories import make_integration

DOCUMENT = {
    "authentication_type": "none",
    "model_properties": [
        {"name": "out-model", "alias": "Out", "supported_parameters": ["max_tokens"]},
        {"name": "judge-model", "alias": "Judge", "supported_parameters": []},
    ],
    "endpoint": "http://127.0.0.1:9/v1",  # nothing is executed here: runs stay queued
}
# Keys whose values name an integration, dataset, metric, evaluation, job, run or saved prompt (version).
ID_KEYS = {"id", "dataset", "metric", "metrics", "job", "judge_job", "run", "prompt_version"}


def is_uuid(value) -> bool:
    try:
        return str(uuid.UUID(str(value))) == str(value)
    except ValueError:
        return False


def ids_in(data, key: str | None = None):
    """Every id-like value in a JSON answer, with where it was: values of ID_KEYS and the keys of `scores` objects."""
    if isinstance(data, list):
        for item in data:
            yield from ids_in(item, key)
    elif isinstance(data, dict):
        for name, value in data.items():
            if key == "scores":
                yield f"scores key {name!r}", name
            if name in ID_KEYS and value is None:
                continue  # an optional reference left empty (a run or evaluation without a saved prompt)
            if name in ID_KEYS and not isinstance(value, dict | list):
                yield name, value
            elif name in ID_KEYS and isinstance(value, list):
                yield from ((name, item) for item in value if not isinstance(item, dict))
                yield from ids_in([item for item in value if isinstance(item, dict)], name)
            else:
                yield from ids_in(value, name)


@pytest.fixture
def world(org, admin_user):
    """An organisation with an integration, a dataset, a metric, an evaluation with a score, a judged run."""
    integration = make_integration(organization=org, user=admin_user, name="public", document=DOCUMENT)
    dataset = dataset_create(
        organization=org, user=admin_user, name="Sums", text="question,expected\n1+1?,2\n2+2?,4\n", format="csv"
    )
    metric = metric_create(
        organization=org,
        user=admin_user,
        name="Correctness",
        judge_model="Judge",
        judges=1,
        prompt="Q: {{input}} A: {{output}} Score it.",
    )
    evaluation = evaluation_create(
        organization=org,
        user=admin_user,
        dataset=dataset.uuid,
        messages=[{"role": "user", "content": "{{question}}"}],
        models=[{"model": "Out"}],
        metrics=[metric.uuid],
    )
    for result in evaluation.results.all():
        MetricScore.objects.create(
            result=result, metric=metric, status=ScoreStatus.SCORED, mean=0.5, judgements=[{"score": 0.5}]
        )
    run = evaluation.results.first().run
    finish([run], announce=False)
    MetricScore.objects.create(
        scored_run=run, metric=metric, status=ScoreStatus.SCORED, mean=1.0, judgements=[{"score": 1.0}]
    )
    prompt = prompt_create(organization=org, user=admin_user, name="sums", messages=[{"role": "user", "content": "hi"}])
    return {
        "integration": integration,
        "dataset": dataset,
        "metric": metric,
        "evaluation": evaluation,
        "run": run,
        "prompt": prompt,
    }


def api_reads(world) -> list[str]:
    dataset, metric, evaluation = world["dataset"].uuid, world["metric"].uuid, world["evaluation"].pk
    return [
        "/api/v2/integrations",
        "/api/v2/llm_integrations",
        "/api/v2/integrations/custom/public",
        "/api/v2/datasets",
        f"/api/v2/datasets/{dataset}",
        "/api/v2/metrics",
        f"/api/v2/metrics/{metric}",
        f"/api/v2/metrics/{metric}/scores?run={world['run'].pk}",
        "/api/v2/evaluations",
        f"/api/v2/evaluations/{evaluation}",
        f"/api/v2/evaluations/{evaluation}/results",
        f"/api/v2/runs/{world['run'].pk}",
        "/api/v2/prompts",
        f"/api/v2/prompts/{world['prompt'].pk}",
        f"/api/v2/prompts/{world['prompt'].pk}/versions",
    ]


def test_every_id_the_api_shows_is_a_uuid(world, admin_user):
    api = client_for(admin_user)
    seen = {}
    for path in api_reads(world):
        response = api.get(path)
        assert response.status_code == 200, (path, response.content[:300])
        for where, value in ids_in(response.json()):
            assert is_uuid(value), f"{path}: {where} = {value!r} is not a UUID"
            seen.setdefault(path, set()).add(str(value))

    assert str(world["integration"].uuid) in seen["/api/v2/integrations"]
    assert str(world["integration"].uuid) in seen["/api/v2/llm_integrations"]
    assert str(world["dataset"].uuid) in seen[f"/api/v2/evaluations/{world['evaluation'].pk}"]
    results = seen[f"/api/v2/evaluations/{world['evaluation'].pk}/results"]
    assert str(world["metric"].uuid) in results  # in the metrics list and as the key of every score
    assert str(world["metric"].uuid) in seen[f"/api/v2/metrics/{world['metric'].uuid}/scores?run={world['run'].pk}"]
    assert str(world["prompt"].versions.get().pk) in seen[f"/api/v2/prompts/{world['prompt'].pk}/versions"]


def test_pages_link_and_offer_uuids_only(world, admin_user):
    browser = Client()
    browser.force_login(admin_user)
    dataset, metric, evaluation = world["dataset"], world["metric"], world["evaluation"]
    pages = {
        path: browser.get(path).content.decode()
        for path in [
            "/evaluations",
            "/evaluations/datasets",
            f"/evaluations/datasets/{dataset.uuid}",
            "/evaluations/new",
            f"/evaluations/{evaluation.pk}",
            "/playground",
        ]
    }
    found = []
    for path, html in pages.items():
        found += [(path, v) for v in re.findall(r'/evaluations/datasets/([^"/?#]+)', html)]
        found += [(path, v) for v in re.findall(r'\?dataset=([^"&#]+)', html)]
        found += [(path, v) for v in re.findall(r"sort=-?score:([^:]+):", html)]
        found += [(path, v) for v in re.findall(r'name="metrics" value="([^"]*)"', html)]
        for select in re.findall(r'<select (?:name="dataset"|id="metric").*?</select>', html, re.S):
            found += [(path, v) for v in re.findall(r'<option value="([^"]+)"', select)]
    values = {value for _, value in found}
    assert {str(dataset.uuid), str(metric.uuid)} <= values, found  # the walk saw them
    assert all(is_uuid(value) for _, value in found), [pair for pair in found if not is_uuid(pair[1])]


def test_the_old_sequential_numbers_are_not_accepted_anywhere(world, admin_user):
    api = client_for(admin_user)
    browser = Client()
    browser.force_login(admin_user)
    dataset_pk, metric_pk, integration_pk = world["dataset"].pk, world["metric"].pk, world["integration"].pk
    run = world["run"].pk

    for path in [
        f"/api/v2/datasets/{dataset_pk}",
        f"/api/v2/metrics/{metric_pk}",
        f"/api/v2/metrics/{metric_pk}/scores?run={run}",
        f"/api/v2/integrations/custom/{integration_pk}",
    ]:
        assert api.get(path).status_code == 404, path
    assert api.delete(f"/api/v2/datasets/{dataset_pk}").status_code == 404
    assert api.post(f"/api/v2/metrics/{metric_pk}/scores", {"runs": [str(run)]}, format="json").status_code == 404
    for path in [f"/evaluations/datasets/{dataset_pk}", f"/evaluations/metrics/{metric_pk}/scores?run={run}"]:
        assert browser.get(path).status_code == 404, path
    assert browser.post(f"/evaluations/datasets/{dataset_pk}/delete").status_code == 404
    assert Dataset.objects.filter(pk=dataset_pk).exists()

    body = {"dataset": dataset_pk, "messages": [{"role": "user", "content": "{{question}}"}], "models": ["Out"]}
    for dataset in (dataset_pk, str(dataset_pk)):
        refused = api.post("/api/v2/evaluations", {**body, "dataset": dataset}, format="json")
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "dataset"]
    for metrics in ([metric_pk], [str(metric_pk)]):
        refused = api.post(
            "/api/v2/evaluations", {**body, "dataset": str(world["dataset"].uuid), "metrics": metrics}, format="json"
        )
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "metrics", 0]
    form = {"dataset": str(dataset_pk), "prompt": "{{question}}", "models": ["Out"], "metrics": [str(metric_pk)]}
    page = browser.post("/evaluations/new", form)
    assert page.status_code == 422
    assert page.context["form"].errors.keys() >= {"dataset", "metrics"}

    evaluation = world["evaluation"].pk
    sorted_by_number = api.get(f"/api/v2/evaluations/{evaluation}/results?sort=score:{metric_pk}:0").json()
    assert sorted_by_number["sort"] == "row"
    sorted_by_uuid = api.get(f"/api/v2/evaluations/{evaluation}/results?sort=score:{world['metric'].uuid}:0").json()
    assert sorted_by_uuid["sort"] == f"score:{world['metric'].uuid}:0"


def test_another_organisations_uuids_answer_404(world, other_admin):
    api = client_for(other_admin)
    browser = Client()
    browser.force_login(other_admin)
    dataset, metric, run = world["dataset"].uuid, world["metric"].uuid, world["run"].pk

    paths = [f"/api/v2/datasets/{dataset}", f"/api/v2/metrics/{metric}", f"/api/v2/metrics/{metric}/scores?run={run}"]
    for path in paths:
        assert api.get(path).status_code == 404, path
    assert api.delete(f"/api/v2/datasets/{dataset}").status_code == 404
    assert api.post(f"/api/v2/metrics/{metric}/scores", {"runs": [str(run)]}, format="json").status_code == 404
    for path in [f"/evaluations/datasets/{dataset}", f"/evaluations/metrics/{metric}/scores?run={run}"]:
        assert browser.get(path).status_code == 404, path
    assert browser.post(f"/evaluations/datasets/{dataset}/delete").status_code == 404
    assert Dataset.objects.filter(uuid=dataset).exists()
    listed = [api.get(path).json() for path in ("/api/v2/integrations", "/api/v2/datasets", "/api/v2/metrics")]
    assert listed == [[], [], []]

    body = {"dataset": str(dataset), "messages": [{"role": "user", "content": "hi"}], "models": ["Out"]}
    refused = api.post("/api/v2/evaluations", {**body, "metrics": [str(metric)]}, format="json")
    assert refused.status_code == 422
    problems = {tuple(problem["loc"]) for problem in refused.json()["detail"]}
    assert problems >= {("body", "dataset"), ("body", "metrics", 0)}


# The migrations that added the public ids, run backwards and forwards on rows written before them.
UUID_MIGRATIONS = [("integrations", "0004_integration_uuid"), ("evaluations", "0004_dataset_metric_uuid")]


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.fixture
def before_the_public_ids(transactional_db):
    graph = MigrationExecutor(connection).loader.graph
    before = [p.key for node in UUID_MIGRATIONS for p in graph.node_map[node].parents if p.key[0] == node[0]]
    executor = migrate(before)
    yield executor.loader.project_state(before).apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_the_migrations_give_existing_rows_distinct_uuids_and_keep_their_data(before_the_public_ids, org):
    apps = before_the_public_ids
    for index in range(3):
        apps.get_model("integrations", "Integration").objects.create(
            organization_id=org.pk,
            name=f"old-{index}",
            authentication_type="none",
            endpoint=f"https://old-{index}.example/v1",
            default_model="m",
        )
        apps.get_model("evaluations", "Dataset").objects.create(
            organization_id=org.pk, name=f"old-{index}", columns=["q"], row_count=index, source_format="csv"
        )
        apps.get_model("evaluations", "Metric").objects.create(
            organization_id=org.pk, name=f"old-{index}", judge_model="Judge", judges=index + 1, prompt=f"p{index}"
        )
    before = {model: sorted(model.objects.values_list(*fields)) for model, fields in KEPT.items()}

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    for model, fields in KEPT.items():
        assert sorted(model.objects.values_list(*fields)) == before[model]  # same rows, same primary keys
        uuids = list(model.objects.values_list("uuid", flat=True))
        assert len(uuids) == 3 and None not in uuids and len(set(uuids)) == 3, uuids
    new = Dataset.objects.create(organization=org, name="new", columns=[], source_format="csv")
    assert new.uuid not in set(Dataset.objects.exclude(pk=new.pk).values_list("uuid", flat=True))


KEPT = {
    Integration: ("pk", "name", "endpoint"),
    Dataset: ("pk", "name", "row_count"),
    Metric: ("pk", "name", "judges", "prompt"),
}


def test_the_integer_keys_stay_inside(world):
    # Foreign keys and the runners' cache still use the integer primary key; only the public id changed.
    assert isinstance(world["integration"].pk, int) and isinstance(world["integration"].uuid, uuid.UUID)
    assert Run.objects.get(pk=world["run"].pk).integration_id == world["integration"].pk
