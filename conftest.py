"""Root conftest: the shared fixtures (real broker, real PostgreSQL) come from the runtime's plugin."""

pytest_plugins = ["medic_runtime.testing.plugin"]
