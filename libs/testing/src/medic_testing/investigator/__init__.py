"""Local implementations for tests and demos: a fake Anthropic Messages API server."""
