"""Cross-service fault suite."""
