"""Retry timing, Retry-After parsing and redaction rules, checked directly."""

import email.utils
import time

import pytest

from runners.delivery import retry_delay
from runners.redaction import display_url, redact_url, scrub
from runners.transport import TransportError, parse_retry_after


def test_retry_after_accepts_seconds_and_http_dates():
    now = time.time()
    assert parse_retry_after("7") == 7
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_grows_exponentially_with_jitter_up_to_a_cap(settings):
    settings.RUNNERS_BACKOFF_BASE = 1
    settings.RUNNERS_BACKOFF_MAX = 5
    error = TransportError("x", permanent=False, error_type="provider_error")
    for retry, ceiling in [(1, 1), (2, 2), (3, 4), (4, 5), (10, 5)]:
        delays = [retry_delay(error, retry_number=retry) for _ in range(50)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(set(delays)) > 1


def test_retry_after_wins_over_backoff_but_is_capped(settings):
    settings.RUNNERS_RETRY_AFTER_MAX = 10
    asked = {"permanent": False, "error_type": "rate_limited"}
    assert retry_delay(TransportError("x", **asked, retry_after=3), retry_number=1) == 3
    assert retry_delay(TransportError("x", **asked, retry_after=3600), retry_number=1) == 10


def test_urls_lose_credentials_in_records_and_messages():
    url = "https://user:pw@api.example.com/v1/chat/completions?api-version=2024&api_key=sk-123&sig=abc"
    assert redact_url(url) == (
        "https://********@api.example.com/v1/chat/completions?api-version=2024&api_key=********&sig=********"
    )
    assert display_url(url) == "https://api.example.com/v1/chat/completions"


def test_scrub_replaces_known_secrets_longest_first():
    assert scrub("key sk-abcdef and sk-abcdef-long", ["sk-abcdef", "sk-abcdef-long"]) == "key ******** and ********"
    assert scrub("the value is on", ["on"]) == "the value is on"  # too short to be a secret worth mangling text for
