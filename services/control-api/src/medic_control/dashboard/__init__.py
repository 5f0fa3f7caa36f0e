"""control-api: the dashboard domain."""
