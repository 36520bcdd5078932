import os

from celery import Celery
from celery.signals import worker_init, worker_ready, worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integrations_site.settings")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

app = Celery("integrations_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def preload_litellm_for_custom_handlers(sender=None, **kwargs):
    """Importing LiteLLM takes seconds; pay it at start rather than in the first custom handler run."""
    from django.conf import settings

    if settings.GALILEO_CUSTOM_LLMS_ENABLED:
        import litellm  # noqa: F401


@worker_ready.connect
def reap_lost_runs_while_running(sender=None, **kwargs):
    """Runs left `running` by a killed worker are failed at start and then periodically (no beat needed)."""
    from django.conf import settings

    from runners.reaper import start_periodic_reaper

    if settings.RUNNERS_REAP_INTERVAL:
        start_periodic_reaper(settings.RUNNERS_REAP_INTERVAL)


@worker_ready.connect
def warn_when_limits_are_not_enforced(sender=None, **kwargs):
    """Once at start: integrations with limits are not limited without Redis (runners.limits)."""
    from django.db import connection

    from runners.limits import limits_unenforced_warning

    try:
        limits_unenforced_warning()
    finally:
        connection.close()


@worker_shutdown.connect
def close_shared_http_client(sender=None, **kwargs):
    from runners.event_loop import shutdown

    shutdown()


@worker_shutdown.connect
def send_pending_metrics(sender=None, **kwargs):
    from core.metrics_store import metrics_flush

    metrics_flush()
