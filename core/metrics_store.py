"""Counters and histograms shared by every web and worker process, kept in Redis.

Workers on several hosts record what their runs did here; whichever web process answers `/metrics` reads it all
back (operations/collector.py), so one scrape target covers the whole deployment and a restarted process loses
nothing it had sent. Each metric is one Redis hash under `integrations:metrics:<queue>:` (the runs' queue, so
deployments sharing a Redis stay apart); a field is the JSON list of its label values, and for a histogram one more
part: a bucket's upper bound (counted non-cumulatively), `sum` or `count`. Label values are bounded by the callers
(runners/metrics.py). Without REDIS_URL (the embedded quickstart broker) nothing is recorded.

Each process adds up its own updates in memory and sends them every FLUSH_INTERVAL (one pipelined round trip for
all the runs of that second, none on a run's path); a process killed outright loses at most that last second.
Recording never raises: a lost increment is better than a failed run.
"""

import atexit
import bisect
import json
import logging
import os
import threading
import time
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
REDIS_TIMEOUT = 1.0  # seconds
FLUSH_INTERVAL = 1.0  # seconds between sends of a process's pending updates


@dataclass(frozen=True)
class MetricSpec:
    name: str  # without the _total suffix of counters
    kind: str  # "counter" | "histogram"
    documentation: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...] = ()


RUNS = MetricSpec(
    name="integrations_runs",
    kind="counter",
    documentation="Runs finished by a worker, by status and error_type.",
    labels=("status", "error_type"),
)
RETRIES = MetricSpec(
    name="integrations_run_retries",
    kind="counter",
    documentation="Provider attempts that were retried, by the error that caused the retry.",
    labels=("error_type",),
)
PROVIDER_LATENCY = MetricSpec(
    name="integrations_provider_latency_seconds",
    kind="histogram",
    documentation="Time from sending a run's request to its complete answer (successful runs).",
    labels=(),
    buckets=LATENCY_BUCKETS,
)
TIME_TO_FIRST_TOKEN = MetricSpec(
    name="integrations_time_to_first_token_seconds",
    kind="histogram",
    documentation="Time from sending a streamed run's request to its first content token.",
    labels=(),
    buckets=LATENCY_BUCKETS,
)
PROMPT_TOKENS = MetricSpec(
    name="integrations_prompt_tokens", kind="counter", documentation="Prompt tokens reported by providers.", labels=()
)
COMPLETION_TOKENS = MetricSpec(
    name="integrations_completion_tokens",
    kind="counter",
    documentation="Completion tokens reported by providers.",
    labels=(),
)
TOKEN_REQUESTS = MetricSpec(
    name="integrations_oauth2_token_requests",
    kind="counter",
    documentation="Requests to OAuth2 token endpoints, by outcome.",
    labels=("outcome",),
)
# Every metric that can carry the operator's opt-in `integration` label (METRICS_INTEGRATION_LABELS).
PER_INTEGRATION = (RUNS, PROVIDER_LATENCY, TIME_TO_FIRST_TOKEN, PROMPT_TOKENS, COMPLETION_TOKENS)
STORED = (RUNS, RETRIES, PROVIDER_LATENCY, TIME_TO_FIRST_TOKEN, PROMPT_TOKENS, COMPLETION_TOKENS, TOKEN_REQUESTS)

OTHER_INTEGRATIONS = "other"
# Admits an integration name into the capped set of label values, atomically for all workers: 1 admitted, 0 not.
_ADMIT_SCRIPT = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) < tonumber(ARGV[2]) then redis.call('SADD', KEYS[1], ARGV[1]) return 1 end
return 0
"""

_client = None
_client_lock = threading.Lock()


def metrics_client():
    """This process's Redis client for metrics (None without REDIS_URL)."""
    global _client
    if not settings.REDIS_URL:
        return None
    with _client_lock:
        if _client is None:
            import redis

            _client = redis.Redis.from_url(
                settings.REDIS_URL, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
            )
        return _client


def metrics_key(name: str) -> str:
    from celery import current_app as app

    return f"integrations:metrics:{app.conf.task_default_queue}:{name}"


def field_for(label_values: tuple[str, ...], part: str | None = None) -> str:
    return json.dumps([*label_values, part] if part is not None else list(label_values))


# Updates not yet sent: (metric, field) -> amount. A run adds to it in microseconds; a background thread sends
# what accumulated every FLUSH_INTERVAL seconds in one pipelined round trip, so Redis is never on a run's path.
_pending: dict[tuple[str, str], float] = {}
_pending_lock = threading.Lock()
_send_lock = threading.Lock()  # one send at a time: when metrics_flush returns, everything added before is sent
_flusher_pid: int | None = None


def _add(spec: MetricSpec, field: str, amount: float) -> None:
    global _flusher_pid
    with _pending_lock:
        _pending[spec.name, field] = _pending.get((spec.name, field), 0) + amount
        if _flusher_pid != os.getpid():  # not started yet in this process (or it was forked)
            _flusher_pid = os.getpid()
            threading.Thread(target=_flush_forever, name="metrics-flush", daemon=True).start()


def metrics_increment(spec: MetricSpec, labels: tuple[str, ...] = (), amount: float = 1) -> None:
    """Add `amount` to the counter `spec` with these label values."""
    if amount and settings.REDIS_URL:
        _add(spec, field_for(labels), amount)


def metrics_observe(spec: MetricSpec, value: float, labels: tuple[str, ...] = ()) -> None:
    """Record `value` (seconds) in the histogram `spec` with these label values."""
    if not settings.REDIS_URL:
        return
    index = bisect.bisect_left(spec.buckets, value)
    _add(spec, field_for(labels, repr(spec.buckets[index]) if index < len(spec.buckets) else "+Inf"), 1)
    _add(spec, field_for(labels, "sum"), value)
    _add(spec, field_for(labels, "count"), 1)


def metrics_flush() -> None:
    """Send this process's pending updates to Redis now (also at worker shutdown and before a scrape). A failed
    send is logged and dropped: counters may then miss some runs, never count one twice."""
    global _pending
    with _send_lock:
        with _pending_lock:
            sending, _pending = _pending, {}
        client = metrics_client()
        if not sending or client is None:
            return
        pipeline = client.pipeline(transaction=False)
        for (name, field), amount in sending.items():
            pipeline.hincrbyfloat(metrics_key(name), field, amount)
        try:
            pipeline.execute()
        except Exception as exc:
            logger.warning("metrics not recorded: %s", type(exc).__name__)


def _flush_forever() -> None:
    while True:
        time.sleep(FLUSH_INTERVAL)
        metrics_flush()


atexit.register(metrics_flush)


_admitted: dict[str, bool] = {}


def integration_label(name: str) -> str:
    """`name` while fewer than METRICS_INTEGRATION_LABELS_MAX integrations have been labelled, else `other`.

    The set of labelled names is shared by all workers (in Redis) and only grows, so each process asks once per
    name.
    """
    if name in _admitted:
        return name if _admitted[name] else OTHER_INTEGRATIONS
    client = metrics_client()
    if client is None:
        return OTHER_INTEGRATIONS
    try:
        admitted = bool(
            client.eval(
                _ADMIT_SCRIPT, 1, metrics_key("integration_labels"), name, settings.METRICS_INTEGRATION_LABELS_MAX
            )
        )
    except Exception:
        return OTHER_INTEGRATIONS
    _admitted[name] = admitted
    return name if admitted else OTHER_INTEGRATIONS


def metrics_read(spec: MetricSpec) -> dict[tuple[str, ...], float]:
    """Every stored field of `spec`: label values (plus the histogram part) -> value. Raises redis errors."""
    client = metrics_client()
    if client is None:
        return {}
    raw = client.hgetall(metrics_key(spec.name))
    return {tuple(json.loads(field)): float(value) for field, value in raw.items()}
