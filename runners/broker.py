"""The Celery broker seen from outside a worker: is it reachable, and how many messages wait in a queue.

Both go through kombu with the project's broker settings (Redis, or the embedded filesystem broker) and give up
after `timeout` seconds: a readiness probe or a metrics scrape must answer even when the broker is gone.
"""

import os
from pathlib import Path

from django.conf import settings


class BrokerUnavailable(Exception):
    """The broker could not be reached (or, for the filesystem broker, its folders are missing or read-only)."""


def _filesystem_folders() -> list[Path]:
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    names = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")
    return sorted({Path(options[name]) for name in names if options.get(name)})


def _connection(timeout: float):
    from celery import current_app as app

    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout, "max_retries": 0}
    return app.connection_for_read(settings.CELERY_BROKER_URL, transport_options=options, connect_timeout=timeout)


def broker_check(*, timeout: float) -> None:
    """Raise BrokerUnavailable unless the broker answers within `timeout` seconds.

    Redis: a connection and a PING (kombu pings when it opens a channel). Filesystem broker: its folders exist
    and are writable by this process.
    """
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        for folder in _filesystem_folders():
            if not (folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)):
                raise BrokerUnavailable
        return
    try:
        with _connection(timeout) as conn:
            conn.ensure_connection(max_retries=0, timeout=timeout)
            conn.default_channel  # noqa: B018 (opening the channel is the round trip)
    except Exception as exc:
        raise BrokerUnavailable from exc


def broker_queue_depth(*, queue: str | None = None, timeout: float = 5.0) -> int:
    """Messages waiting in `queue` (default: the queue runs are published to); 0 if it does not exist yet.

    Messages taken by a worker and not yet acknowledged are not counted. Raises BrokerUnavailable.
    """
    from celery import current_app as app

    try:
        with _connection(timeout) as conn:
            conn.ensure_connection(max_retries=0, timeout=timeout)
            try:
                _, waiting, _ = conn.default_channel.queue_declare(
                    queue=queue or app.conf.task_default_queue, passive=True
                )
            except conn.channel_errors:
                return 0  # the queue does not exist (yet): nothing waits in it
    except BrokerUnavailable:
        raise
    except Exception as exc:
        raise BrokerUnavailable from exc
    return waiting
