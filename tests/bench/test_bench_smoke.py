"""The benchmark's smoke mode: the same code paths as `python -m bench` at tiny sizes, so that it cannot rot.

No thresholds and no timing assertions (targets live in the benchmark, never in a timed test): every run of
every system completes and the report has every figure.
"""

import json
from dataclasses import replace

import pytest
from django.conf import settings

from bench.report import figure_definitions, save, summarise, table
from bench.suite import SYSTEMS, Config, run_suite

pytestmark = [pytest.mark.slow, pytest.mark.worker]

TINY = Config(
    latency_ms=10,
    concurrency=5,
    overhead_runs=5,
    overhead_latency_ms=10,
    batch_sizes=(20,),
    rss_in_flight=10,
    rss_runs=20,
    rss_latency_ms=50,
    label="bench-smoke",
    fresh_processes=False,
)


@pytest.fixture
def redis_broker():
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: the benchmark runs a real Celery worker on Redis")


def test_every_run_completes_and_the_report_has_every_figure(transactional_db, redis_broker, tmp_path):
    raw = run_suite(TINY, log_dir=tmp_path, progress=lambda line: None)
    summary = summarise(raw)

    done = summary["completion"]
    assert done["runs"] == {"httpx": 45, "litellm": 45, "product": 45}
    assert done["succeeded"] == done["runs"], done["error_types"]
    keys = [key for key, *_ in figure_definitions(raw["config"])]
    assert keys == ["overhead_p50_ms", "overhead_p95_ms", "throughput_20", "cpu_ms_per_run_20", "peak_rss_mb"]
    for key in keys:
        figure = summary["figures"][key]
        assert set(figure["systems"]) == set(SYSTEMS)
        assert set(figure["ratios"]) == {"product/httpx", "product/litellm"}
    assert [target["figure"] for target in summary["targets"]] == ["overhead_p50_ms", "throughput_20", "peak_rss_mb"]
    printed = table(raw, summary)
    assert all(figure["label"] in printed for figure in summary["figures"].values())
    saved = json.loads(save(raw, summary, tmp_path).read_text())
    assert saved["summary"]["figures"].keys() == summary["figures"].keys()


def test_the_worker_started_without_flags_is_measured_against_the_procfiles(transactional_db, redis_broker, tmp_path):
    config = replace(TINY, systems=("product", "product@plain"), phases=("batch",))
    raw = run_suite(config, log_dir=tmp_path, progress=lambda line: None)
    summary = summarise(raw)

    assert summary["completion"]["succeeded"] == {"product": 20, "product@plain": 20}
    assert set(summary["figures"]["throughput_20"]["ratios"]) == {"product@plain/product"}
    plain_targets = [target["target"] for target in summary["targets"] if target["figure"] == "throughput_20"]
    assert plain_targets == [">= 95% of product (the Procfile's worker)"]
    assert "product@plain/product" in table(raw, summary)
    # Each worker's banner says how it runs: the one started with no flags too has the threads pool.
    banners = [path.read_text() for path in sorted(tmp_path.glob("*-worker.log"))]
    assert len(banners) == 2
    assert all("concurrency: 5 (thread)" in banner for banner in banners), banners
