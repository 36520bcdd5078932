"""What runners tell the apps above them (runners import none of them; they listen here).

run_finished
    Sent by the worker right after it stored a run's outcome (succeeded or failed), once per run and only by the
    worker whose store took effect. Keyword arguments: `run_id` (str, the Run's UUID), `status` ("succeeded" or
    "failed"), `job_id` (str, or None for a run outside any job) and `work_class` (a runners.models.WorkClass value,
    so that a receiver with nothing to do for a class returns without a query). Sent outside any transaction with
    `send_robust`: a receiver that raises is logged and does not affect the run. Runs failed without a worker
    (cancelled while queued, reaped after a lost worker) send nothing; receivers that must see those too need a
    periodic safety net.

reaper_pass
    Sent after each reaper pass (runners.reaper.reap_pass: at worker start, every RUNNERS_REAP_INTERVAL seconds in
    each worker, and by `manage.py reap_runs`), outside any transaction, with `send_robust`. No arguments. Apps
    above runners connect here the repairs that need a periodic look (evaluations: one whose creation message was
    lost). A receiver must be idempotent and cheap: every worker sends it.
"""

import django.dispatch

run_finished = django.dispatch.Signal()
reaper_pass = django.dispatch.Signal()
