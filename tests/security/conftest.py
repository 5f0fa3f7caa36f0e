"""Fixtures the audit-log modules share: a store per dialect, a started control-api, the audit signing key."""

from __future__ import annotations

from .audit_harness import key, start_control, store, store_url

__all__ = ["key", "start_control", "store", "store_url"]  # fixtures, imported for pytest
