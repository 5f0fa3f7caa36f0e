"""Test support: the pytest plugin (real broker and database fixtures) and the echo service."""
