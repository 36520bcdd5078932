"""The message of a metric that cannot be deleted: its verb agrees with what refers to the metric."""

import pytest

from evaluations.models import Metric
from evaluations.services.metrics import MetricInUse


@pytest.mark.parametrize(
    ("evaluations", "scored_runs", "says"),
    [
        (1, 0, "1 evaluation (“E0”) refers to it."),
        (2, 0, "2 evaluations (“E0”, “E1”) refer to it."),
        (0, 1, "1 Playground run score refers to it."),
        (0, 3, "3 Playground run scores refer to it."),
        (1, 1, "1 evaluation (“E0”) and 1 Playground run score refer to it."),
        (12, 0, "12 evaluations (“E0”, “E1”, “E2”, “E3”, “E4”, “E5”, “E6”, “E7”, “E8”, “E9” and 2 more) refer to it."),
    ],
)
def test_the_verb_agrees_with_what_refers_to_the_metric(evaluations, scored_runs, says):
    usage = {"evaluations": [{"name": f"E{index}"} for index in range(evaluations)], "scored_runs": scored_runs}
    message = str(MetricInUse(metric=Metric(name="Tone"), usage=usage))
    assert message.startswith("The metric “Tone” is in use and cannot be deleted: ")
    assert says in message
