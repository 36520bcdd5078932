"""Settings as a new process reads them from its environment (production settings refuse to start on bad values)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def settings_in_process(expression: str, *, drop: tuple[str, ...] = (), **env) -> subprocess.CompletedProcess:
    """Run `print(<expression>)` after django.setup() in a new Python process whose environment is this one's, less
    the variables starting with a prefix in `drop`, plus `env`; stdout has the value, stderr any startup error."""
    environment = {k: v for k, v in os.environ.items() if not (drop and k.startswith(drop))}
    environment.update(env, DJANGO_SETTINGS_MODULE="integrations_site.settings")
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
