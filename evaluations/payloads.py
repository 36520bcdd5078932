"""JSON shapes that the API and the pages' script endpoints share (plain dicts, no DRF)."""

from evaluations.models import MetricScore


def score_payload(score: MetricScore) -> dict:
    """One metric's score of one run: status, mean (0-1), each judge's verdict or error."""
    return {
        "run": str(score.scored_run_id),
        "metric": str(score.metric.uuid),
        "metric_name": score.metric.name,
        "status": score.status,
        "mean": score.mean,
        "judgements": score.judgements,
        "error": score.error or None,
    }
