"""Medic's test kit: fakes of the SaaS APIs, fixture repositories and the pytest plugin (never shipped in a product wheel)."""
