"""control-api: the dlq domain."""
