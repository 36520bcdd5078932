# The runners' fixtures (fast retry settings, integrate, enqueue, queued_run), shared with the hardening tests.
from tests.runners.conftest import enqueue, execute, fast_runner_settings, integrate, queued_run  # noqa: F401
