"""control-api: the approvals domain."""
