"""What the evaluations' run_finished receiver costs a run that is not part of any evaluation."""

import pytest

from evaluations.services import run_finished_advance
from runners.models import WorkClass

pytestmark = pytest.mark.django_db


def test_an_interactive_run_costs_the_receiver_no_query(django_assert_num_queries):
    # The Playground, a connection Test and API runs are never an evaluation's output nor a judge (runners.services).
    with django_assert_num_queries(0):
        run_finished_advance(
            run_id="00000000-0000-0000-0000-000000000001",
            status="succeeded",
            job_id="00000000-0000-0000-0000-000000000002",
            work_class=WorkClass.INTERACTIVE,
        )


def test_a_batch_run_of_another_job_is_still_looked_up(django_assert_num_queries):
    with django_assert_num_queries(2):  # its evaluation (none), then its scores (none)
        run_finished_advance(
            run_id="00000000-0000-0000-0000-000000000001",
            status="succeeded",
            job_id="00000000-0000-0000-0000-000000000002",
            work_class=WorkClass.BATCH,
        )
