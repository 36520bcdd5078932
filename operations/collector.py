"""The Prometheus exposition of /metrics: the stored series (core/metrics_store.py) and each queue's depth,
read from the broker at scrape time."""

from collections import defaultdict

from django.conf import settings
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from core.metrics_store import PER_INTEGRATION, STORED, MetricSpec, metrics_flush, metrics_read
from runners.broker import BrokerUnavailable, broker_queue_depth


def _label_names(spec: MetricSpec) -> tuple[str, ...]:
    if spec in PER_INTEGRATION and settings.METRICS_INTEGRATION_LABELS:
        return (*spec.labels, "integration")
    return spec.labels


def _grouped(spec: MetricSpec) -> dict[tuple[str, ...], dict[str | None, float]]:
    """Stored fields as {label values: {histogram part (None for a counter): value}}, the integration label
    summed away when the operator has not opted in (values recorded either way stay readable)."""
    width = len(_label_names(spec))
    stored_width = len(spec.labels) + (1 if spec in PER_INTEGRATION else 0)
    grouped: dict[tuple[str, ...], dict[str | None, float]] = defaultdict(lambda: defaultdict(float))
    for field, value in metrics_read(spec).items():
        part = field[stored_width] if spec.kind == "histogram" else None
        grouped[field[:width]][part] += value
    return grouped


def _family(spec: MetricSpec):
    names = _label_names(spec)
    if spec.kind == "counter":
        family = CounterMetricFamily(spec.name, spec.documentation, labels=names)
        for labels, parts in _grouped(spec).items():
            family.add_metric(list(labels), parts[None])
        return family
    family = HistogramMetricFamily(spec.name, spec.documentation, labels=names)
    for labels, parts in _grouped(spec).items():
        cumulative, buckets = 0.0, []
        for bound in [*map(repr, spec.buckets), "+Inf"]:
            cumulative += parts.get(bound, 0.0)
            buckets.append((bound, cumulative))
        family.add_metric(list(labels), buckets, parts.get("sum", 0.0))
    return family


class DeploymentCollector:
    """Collects on every scrape; nothing is kept in the web process."""

    def collect(self):
        from celery import current_app as app

        for spec in STORED:
            yield _family(spec)
        queue = app.conf.task_default_queue
        depth = GaugeMetricFamily(
            "integrations_queue_depth", "Run messages waiting in the broker's queue.", labels=["queue"]
        )
        up = GaugeMetricFamily("integrations_broker_up", "1 if the broker answered this scrape, else 0.")
        try:
            depth.add_metric([queue], broker_queue_depth(queue=queue, timeout=float(settings.HEALTH_CHECK_TIMEOUT)))
            up.add_metric([], 1)
        except BrokerUnavailable:
            up.add_metric([], 0)
        yield depth
        yield up


def metrics_exposition() -> bytes:
    """The text exposition format (version 0.0.4) of the deployment's series. Raises redis errors."""
    metrics_flush()  # what this process recorded itself (nothing, unless tasks run eagerly in it)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DeploymentCollector())
    return generate_latest(registry)
