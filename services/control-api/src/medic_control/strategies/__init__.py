"""control-api: the strategies domain (how each fix strategy fares over time)."""
