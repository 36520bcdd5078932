"""python -m bench.live_tokens at a tiny size, so that it cannot rot: the product starts as deployed, every token
the provider streams is found in the page, and the report has its figures (no thresholds: targets live in the
benchmark)."""

import json
from pathlib import Path

import pytest

from bench.live_tokens import main

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_every_token_reaches_the_page_and_the_report_has_its_figures(tmp_path):
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("/usr/bin/chromium is not installed")
    assert main(["--runs", "1", "--tokens", "5", "--no-redis", "--results-dir", str(tmp_path)]) == 0

    (saved,) = tmp_path.glob("live_tokens-*.json")
    result = json.loads(saved.read_text())
    assert result["broker_and_cache"] == "file (no Redis)"
    assert [run["tokens"] for run in result["runs"]] == [5]
    assert result["p50_ms_median"] > 0 and result["p95_ms_median"] >= result["p50_ms_median"]
