"""Helpers for tests of the watcher and of the services downstream of it (real PostgreSQL fixtures)."""
