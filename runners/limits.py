"""Limits per integration, for all workers and hosts together: runs in flight (`max_concurrency`), requests in any
60 seconds (`requests_per_minute`), and a provider's 429 slowing the integration down (AIMD on its concurrency).

State lives in Redis (REDIS_URL), changed by one Lua script per decision so that two workers never both take the
last place; times are Redis's own clock (TIME), so hosts' clocks need not agree. Per integration:

    flight   sorted set, run id -> lease end (ms): the runs in flight; a lease ends by itself
             RUNNERS_MAX_RUN_SECONDS + 60 s after it began, so a killed worker's place comes back
    sent     sorted set, one member per request sent, scored by when (ms): the sliding window
    ceiling  the concurrency a 429 set (float): halved at each 429, +1/ceiling at each answer that was not a 429
             (additive increase, multiplicative decrease), gone when it reaches the document's max_concurrency or
             after RUNNERS_BACKOFF_CEILING_SECONDS without a 429
    waiting  sorted set, run id -> when it comes back (ms): the runs deferred for capacity

each under `limits:<RUNNERS_QUEUE>:<integration id>:`.

A run that finds no place is not kept waiting on a worker thread: runners.execution gives its claim back and
publishes it again with a countdown (Celery `apply_async(countdown=...)`), see `capacity_acquire`. A further
request of a run already in flight (a retry) takes its own place in the window (`request_again`). Without
REDIS_URL (the embedded quickstart: one worker, no Redis) limits are not enforced: `limits_unenforced_warning`
says so once at worker start when an integration has limits.

Cost per run: an integration with a limit (or a 429's ceiling in force) costs a run two round trips, `capacity_acquire`
and `capacity_finish`. One with neither, nearly every integration, costs none: each worker process asks Redis at most
once per CEILING_RECHECK_SECONDS whether a 429 has set a ceiling for it, and its runs are then not counted in flight
(its `flight` set stays empty until a ceiling appears); a 429 on such a run takes its starting point from the runs
the database has running.
"""

import functools
import logging
import random
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

logger = logging.getLogger(__name__)

WINDOW_MS = 60_000
# The window the limiter keeps is this much longer than a minute: a provider counts a request when it arrives, which
# lags the decision to send it by the connection set-up (a first request's TLS handshake, a token fetch). Measured
# with a provider enforcing a sliding minute: without a margin the first request of a window arrived ~0.3 s after
# its decision and the request that replaced it a minute later was refused with 429. Costs 1/61 of the rate.
WINDOW_MARGIN_MS = 1_000
# Seconds a worker process goes on assuming that an integration without limits has no 429 ceiling, before it asks
# Redis again. A 429 seen by another process slows this one's runs of that integration down at most this much later.
CEILING_RECHECK_SECONDS = 1.0

_ACQUIRE = """
local flight, sent, ceiling_key, waiting = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local run_id, lease_ms = ARGV[1], tonumber(ARGV[2])
local max_concurrency, rpm, window_ms = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', flight, '-inf', now)
local limit = max_concurrency
local ceiling = tonumber(redis.call('GET', ceiling_key) or '0')
if ceiling > 0 then
  local backed_off = math.max(1, math.floor(ceiling))
  if limit == 0 or backed_off < limit then limit = backed_off end
end
if limit == 0 and rpm == 0 then
  return {1, 0, now, 0, 0}
end
local holding = redis.call('ZSCORE', flight, run_id)
if limit > 0 and not holding and redis.call('ZCARD', flight) >= limit then
  return {0, -1, now, limit, 1}
end
if rpm > 0 then
  redis.call('ZREMRANGEBYSCORE', sent, '-inf', now - window_ms)
  if redis.call('ZCARD', sent) >= rpm then
    local oldest = redis.call('ZRANGE', sent, 0, 0, 'WITHSCORES')
    return {0, tonumber(oldest[2]) + window_ms - now, now, limit, 1}
  end
  redis.call('ZADD', sent, now, run_id .. ':' .. now .. ':' .. redis.call('INCR', sent .. ':seq'))
  redis.call('PEXPIRE', sent, window_ms * 2)
  redis.call('PEXPIRE', sent .. ':seq', window_ms * 2)
end
redis.call('ZADD', flight, now + lease_ms, run_id)
redis.call('PEXPIRE', flight, lease_ms * 2)
redis.call('ZREM', waiting, run_id)
return {1, 0, now, limit, 1}
"""

_SEND_AGAIN = """
local sent, run_id, rpm, window_ms = KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', sent, '-inf', now - window_ms)
if redis.call('ZCARD', sent) >= rpm then
  local oldest = redis.call('ZRANGE', sent, 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window_ms - now
end
redis.call('ZADD', sent, now, run_id .. ':' .. now .. ':' .. redis.call('INCR', sent .. ':seq'))
redis.call('PEXPIRE', sent, window_ms * 2)
redis.call('PEXPIRE', sent .. ':seq', window_ms * 2)
return 0
"""

_DEFER = """
local waiting, run_id, until_ms, keep_ms = KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', waiting, '-inf', now - keep_ms)
redis.call('ZADD', waiting, now + until_ms, run_id)
redis.call('PEXPIRE', waiting, keep_ms * 2)
return redis.call('ZCARD', waiting)
"""

_ANSWERED = """
local ceiling_key, max_concurrency, rate_limited = KEYS[1], tonumber(ARGV[1]), ARGV[2] == '1'
local flight, ttl, running = KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4] or '0')
if ARGV[5] then redis.call('ZREM', flight, ARGV[5]) end
local ceiling = tonumber(redis.call('GET', ceiling_key) or '0')
if rate_limited then
  if ceiling == 0 then ceiling = math.max(redis.call('ZCARD', flight), running, 1) end
  ceiling = math.max(1, ceiling / 2)
  redis.call('SET', ceiling_key, tostring(ceiling), 'EX', ttl)
  return tostring(ceiling)
end
if ceiling == 0 then return '0' end
ceiling = ceiling + 1 / ceiling
if max_concurrency > 0 and ceiling >= max_concurrency then
  redis.call('DEL', ceiling_key)
  return '0'
end
redis.call('SET', ceiling_key, tostring(ceiling), 'KEEPTTL')
return tostring(ceiling)
"""


@dataclass(frozen=True)
class Decision:
    """`granted`, or the seconds to wait before trying again. `tracked`: the run holds a place in flight (give it
    back with capacity_finish); `limited`: a limit or a 429's ceiling applies to the integration now."""

    granted: bool
    retry_in: float = 0.0
    tracked: bool = False
    limited: bool = False


# Integration id -> time.monotonic() until which this process assumes that it has no 429 ceiling (no limit either).
_no_ceiling_until: dict[int, float] = {}
_no_ceiling_lock = threading.Lock()


def enabled() -> bool:
    return bool(settings.REDIS_URL)


@functools.cache
def _client():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


@functools.cache
def _scripts():
    client = _client()
    return (
        client.register_script(_ACQUIRE),
        client.register_script(_DEFER),
        client.register_script(_ANSWERED),
        client.register_script(_SEND_AGAIN),
    )


def limits_unenforced_warning() -> list[str]:
    """Without Redis, log once (call it at worker start) that the integrations whose document sets
    `max_concurrency` or `requests_per_minute` are not limited: each worker sends as its own slots allow, and a
    429 only makes the run retry (no slowing down). Returns those integrations' names ([] with Redis, or when none
    sets a limit)."""
    if enabled():
        return []
    from integrations.models import Integration

    limited = Integration.objects.filter(Q(max_concurrency__isnull=False) | Q(requests_per_minute__isnull=False))
    names = sorted(limited.values_list("name", flat=True))
    if names:
        shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        logger.warning(
            "integration limits are NOT enforced: REDIS_URL is not set, and %d integration(s) set max_concurrency "
            "or requests_per_minute (%s). Without Redis every worker sends as its own slots allow and a 429 only "
            "makes the run retry; set REDIS_URL to enforce the limits across all workers (README: Limits per "
            "integration).",
            len(names),
            shown,
        )
    return names


def key_prefix() -> str:
    """`limits:<queue>:`: deployments sharing a Redis are told apart by their runs queue (RUNNERS_QUEUE)."""
    from celery import current_app

    return f"limits:{current_app.conf.task_default_queue}:"


def _keys(integration_id: int) -> dict[str, str]:
    prefix = f"{key_prefix()}{integration_id}"
    return {name: f"{prefix}:{name}" for name in ("flight", "sent", "ceiling", "waiting")}


def capacity_acquire(
    *, integration_id: int, run_id: str, max_concurrency: int | None, requests_per_minute: int | None, deferrals: int
) -> Decision:
    """Take a place for this run (in flight, and one request in the window), or say how long to wait.

    Always granted without Redis. A run refused for concurrency waits 0.25 s doubled at each deferral up to 5 s,
    jittered; one refused for rate waits until the oldest request of the window leaves it, plus a spread of one
    request interval per run already waiting (so the waiting runs do not all come back at the same instant).
    """
    if not enabled():
        return Decision(granted=True)
    unlimited = not max_concurrency and not requests_per_minute
    if unlimited and _no_ceiling_until.get(integration_id, 0.0) > time.monotonic():
        return Decision(granted=True)
    keys = _keys(integration_id)
    acquire, defer, *_ = _scripts()
    lease_ms = (int(settings.RUNNERS_MAX_RUN_SECONDS) + 60) * 1000
    granted, wait_ms, _now, limit, tracked = acquire(
        keys=[keys["flight"], keys["sent"], keys["ceiling"], keys["waiting"]],
        args=[run_id, lease_ms, max_concurrency or 0, requests_per_minute or 0, WINDOW_MS + WINDOW_MARGIN_MS],
    )
    if unlimited and not limit:
        with _no_ceiling_lock:
            _no_ceiling_until[integration_id] = time.monotonic() + CEILING_RECHECK_SECONDS
    if granted:
        return Decision(granted=True, tracked=bool(tracked), limited=bool(limit or requests_per_minute))
    if wait_ms < 0:  # no place in flight: it frees when some run ends, which nobody can predict
        ceiling = min(5.0, 0.25 * 2 ** min(deferrals, 5))
        retry_in = random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not cryptography)
    else:
        waiting = _client().zcard(keys["waiting"])
        spread = 60.0 / requests_per_minute * max(waiting - 1, 0)
        retry_in = wait_ms / 1000 + random.uniform(0, spread)  # noqa: S311 (jitter, not cryptography)
    # The message waits in the worker unacknowledged: it must come back well before the broker would redeliver it.
    retry_in = min(retry_in, settings.RUNNERS_LOST_AFTER_SECONDS / 2)
    defer(keys=[keys["waiting"]], args=[run_id, int(retry_in * 1000), WINDOW_MS * 5])
    return Decision(granted=False, retry_in=retry_in)


def request_again(*, integration_id: int, run_id: str, requests_per_minute: int | None, deadline: float) -> bool:
    """Take one more place in the integration's window for a further request of a run that holds its place in
    flight (a retry after a 429 or a 5xx, a negotiation retry): every request the provider receives counts against
    `requests_per_minute`, not only a run's first. Waits in the calling thread (as the retry's own backoff does)
    until the oldest request leaves the window; `deadline` is a time.monotonic() value. True when the request may
    go, False when no place frees before `deadline` (then the run ends with the error it has). Always True
    without Redis or without a `requests_per_minute`.

    Called by runners.delivery before every attempt after the first.
    """
    if not enabled() or not requests_per_minute:
        return True
    key = _keys(integration_id)["sent"]
    send_again = _scripts()[3]
    while True:
        wait_ms = send_again(keys=[key], args=[run_id, requests_per_minute, WINDOW_MS + WINDOW_MARGIN_MS])
        if wait_ms <= 0:
            return True
        wait = wait_ms / 1000 + random.uniform(0, 0.05)  # noqa: S311 (jitter, not cryptography)
        if time.monotonic() + wait >= deadline:
            return False
        time.sleep(wait)


def capacity_release(*, integration_id: int, run_id: str) -> None:
    """Give back the run's place in flight (the request it sent stays in the window)."""
    if enabled():
        _client().zrem(_keys(integration_id)["flight"], run_id)


def answered(
    *, integration_id: int, max_concurrency: int | None, rate_limited: bool, running: int = 0, release: str = ""
) -> float:
    """Tell the integration's AIMD how an exchange ended: a 429 halves its concurrency (from what is in flight the
    first time: the runs in its `flight` set, or `running` if more), any other answer adds 1/ceiling. With `release`
    (a run id), give that run's place in flight back in the same round trip. Returns the ceiling in force (0: none).
    """
    if not enabled():
        return 0.0
    keys = _keys(integration_id)
    ttl = int(settings.RUNNERS_BACKOFF_CEILING_SECONDS)
    args = [max_concurrency or 0, int(rate_limited), ttl, running, *([release] if release else [])]
    ceiling = float(_scripts()[2](keys=[keys["ceiling"], keys["flight"]], args=args))
    if ceiling:
        with _no_ceiling_lock:
            _no_ceiling_until.pop(integration_id, None)  # this process tracks its runs from now on
    return ceiling


def capacity_finish(
    *, integration_id: int, run_id: str, decision: Decision, max_concurrency: int | None, rate_limited: bool | None
) -> None:
    """After a run's exchange (`rate_limited` None: no request went out): give back its place in flight and tell the
    AIMD how it ended, in one round trip; none when the run held no place, no limit or ceiling applied and the
    provider did not answer 429."""
    if not enabled():
        return
    if rate_limited or (decision.limited and rate_limited is not None):
        running = 0 if decision.tracked else _running(integration_id)
        release = run_id if decision.tracked else ""
        answered(
            integration_id=integration_id,
            max_concurrency=max_concurrency,
            rate_limited=bool(rate_limited),
            running=running,
            release=release,
        )
    elif decision.tracked:
        capacity_release(integration_id=integration_id, run_id=run_id)


def _running(integration_id: int) -> int:
    """Runs of the integration running now, for a 429 on an integration whose runs were not counted in flight."""
    from runners.models import Run, RunStatus

    return Run.objects.filter(integration_id=integration_id, status=RunStatus.RUNNING).count()


@dataclass(frozen=True)
class Usage:
    """What an integration uses now: runs in flight, requests in the last 60 s, runs waiting for capacity, and the
    concurrency a 429 set (None: none)."""

    in_flight: int
    sent_last_minute: int
    waiting: int
    ceiling: int | None


def usage_of(integration_ids: list[int]) -> dict[int, Usage]:
    """Usage per integration id ({} without Redis). One round trip."""
    if not enabled() or not integration_ids:
        return {}
    now_ms = int(time.time() * 1000)
    client = _client()
    with client.pipeline(transaction=False) as pipe:
        for integration_id in integration_ids:
            keys = _keys(integration_id)
            pipe.zcount(keys["flight"], now_ms, "+inf")
            pipe.zcount(keys["sent"], now_ms - WINDOW_MS, "+inf")
            pipe.zcount(keys["waiting"], now_ms - 5_000, "+inf")
            pipe.get(keys["ceiling"])
        answers = pipe.execute()
    usage = {}
    for index, integration_id in enumerate(integration_ids):
        flight, sent, waiting, ceiling = answers[index * 4 : index * 4 + 4]
        usage[integration_id] = Usage(
            in_flight=flight,
            sent_last_minute=sent,
            waiting=waiting,
            ceiling=max(1, int(float(ceiling))) if ceiling else None,
        )
    return usage
