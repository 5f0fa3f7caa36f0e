"""control-api: the actions domain."""
