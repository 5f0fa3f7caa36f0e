"""control-api: the feedback domain."""
