"""Root conftest: the shared fixtures (real broker, real PostgreSQL) come from the test kit's plugin (medic_testing)."""

pytest_plugins = ["medic_testing.runtime.plugin"]
