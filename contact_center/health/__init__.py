"""Health and metrics: readiness checks (`checks`), Prometheus metrics (`metrics`), the
event-loop watchdog (`watchdog`) and the stand-alone bridge's small HTTP server (`server`)."""
