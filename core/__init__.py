"""The shared layer: what every app may use and nothing in it imports an app (docs/architecture.md).

problems        validation problems with a path (the 422 `detail[]` of the API and the pages)
network_policy  which addresses the runners may connect to (checked at save and at connect time)
log_context     run ids on log lines
metrics_store   counters and histograms kept in Redis for the Prometheus endpoint
"""
