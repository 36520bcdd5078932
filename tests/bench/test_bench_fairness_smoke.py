"""`python -m bench.fairness` at tiny sizes, so that its code cannot rot: every phase runs on real worker processes
and real Redis, and every figure of the printed table is there and is a number (no thresholds, no timing
assertions; the targets are the benchmark's)."""

import json
import re

import pytest
from django.conf import settings

from bench.fairness import parse_args, run

pytestmark = [pytest.mark.slow, pytest.mark.worker]

TINY = [
    "--batch-runs", "30", "--small-runs", "5", "--latency-ms", "10", "--concurrency", "5",
    "--probes", "3", "--probe-interval", "0.05", "--judges", "3",
    "--rpm", "60", "--rate-seconds", "3",
]  # fmt: skip
FIGURES = [
    "interactive queue wait p95",
    "interactive end to end p50",
    "judge created -> claimed p95",
    "org B's small batch, makespan",
    "org A's runs left when B finished",
    "requests_per_minute achieved",
    "most sent in any 60 s",
    "most sent in any 61 s",
]
NUMBER = r"[+-]?\d+(?:\.\d+)?"


def test_every_phase_runs_and_every_printed_figure_is_a_number(transactional_db, tmp_path, capsys):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: the benchmark runs real Celery workers on Redis")
    assert run(parse_args([*TINY, "--results-dir", str(tmp_path)])) == 0
    printed = capsys.readouterr().out
    table = printed[printed.index("figure") :]
    for figure in FIGURES:
        (line,) = [line for line in table.splitlines() if line.startswith(figure)]
        measured = line[len(figure) :].split()
        assert any(re.fullmatch(NUMBER + r"(?:ms|s|%|x)?", value) for value in measured), line
    (saved,) = tmp_path.glob("fairness-*.json")
    repeat = json.loads(saved.read_text())["repeats"][0]
    assert repeat["interactive"]["batch_succeeded"] == 30
    assert len(repeat["interactive"]["busy_wait_ms"]) == 3 and len(repeat["interactive"]["judge_lag_ms"]) == 3
    assert repeat["orgs"]["succeeded"] == 35
    rate = repeat["rate"]
    assert rate["started_in_period"] > 0 and rate["achieved"] > 0 and rate["most_in_any_60_s"] <= 60
