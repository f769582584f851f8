"""Observability without Flask: Prometheus metrics, JSON log lines, the delivery heartbeat."""
