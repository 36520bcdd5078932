"""`python -m bench evaluations` at tiny sizes, so that its code cannot rot: every figure is there (no thresholds,
no timing assertions; the targets are the benchmark's)."""

from bench.evaluations import parse_args, report, run

TINY = ["--small", "3x2", "--large", "6x4", "--runs-table", "300", "--requests", "2"]


def test_every_figure_is_measured_and_reported(db):
    figures = run(parse_args(TINY), progress=lambda line: None)
    assert (figures["small_runs"], figures["large_runs"]) == (6, 24)
    for state in ("running", "done"):
        for size in ("small", "large"):
            names = {
                f"{read}_{stat}_ms" for read in ("progress", "results_page", "results_api") for stat in ("p50", "p95")
            }
            assert set(figures[state][size]) == names
    assert figures["create"]["create_runs"] == 24 and figures["runs_in_table"] >= 300
    assert set(figures["filters"]) == {
        "runs_filter_model_p95_ms",
        "runs_filter_integration_p95_ms",
        "runs_filter_status_p95_ms",
        "playground_history_p95_ms",
        "playground_page_p95_ms",
    }
    assert "create 24-run evaluation" in report(figures)
