"""control-api: the control domain."""
