import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integrations_site.settings")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

app = Celery("integrations_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
