"""control-api: the config domain."""
