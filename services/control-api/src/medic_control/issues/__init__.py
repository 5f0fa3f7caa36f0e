"""control-api: the issues domain."""
