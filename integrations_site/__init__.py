import os

# LiteLLM fetches its price list on import unless told to use the bundled copy.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from integrations_site.celery import app as celery_app

__all__ = ("celery_app",)
