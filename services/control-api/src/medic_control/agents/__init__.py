"""The Medic services as control-api sees them: their recent logs."""
