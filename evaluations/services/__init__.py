"""Writes for evaluations, one module per concern:

- datasets: dataset_create, dataset_delete
- metrics: metric_create
- lifecycle: evaluation_create, evaluation_dispatch, evaluation_cancel, evaluation_advance, run_finished_advance
- scoring: judges_enqueue, scores_record, run_scores_request
- permissions: can_delete

Import from the module; the names below are re-exported for callers written before the split.
"""

from evaluations.services.common import InUse
from evaluations.services.datasets import dataset_create, dataset_delete
from evaluations.services.lifecycle import (
    evaluation_advance,
    evaluation_cancel,
    evaluation_create,
    evaluation_dispatch,
    run_finished_advance,
)
from evaluations.services.metrics import metric_create
from evaluations.services.permissions import can_delete
from evaluations.services.scoring import judges_enqueue, run_scores_request, scores_record

__all__ = [
    "InUse",
    "can_delete",
    "dataset_create",
    "dataset_delete",
    "evaluation_advance",
    "evaluation_cancel",
    "evaluation_create",
    "evaluation_dispatch",
    "judges_enqueue",
    "metric_create",
    "run_finished_advance",
    "run_scores_request",
    "scores_record",
]
