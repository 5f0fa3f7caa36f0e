"""control-api: the auth domain."""
