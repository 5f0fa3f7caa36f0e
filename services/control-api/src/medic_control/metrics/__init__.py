"""control-api: the metrics domain."""
