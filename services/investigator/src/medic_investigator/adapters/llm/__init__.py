"""The LLM diagnosis provider (Claude) behind the :class:`~medic_investigator.adapters.providers.DiagnosisProvider` interface."""
