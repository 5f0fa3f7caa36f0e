"""Redaction of secrets and personal data (see :mod:`.redactor`) and the unreadable-file rule (:mod:`.paths`)."""

from __future__ import annotations

from .fields import is_sensitive_key
from .paths import UNREADABLE_NAMES, path_unreadable
from .redactor import DEFAULT_RULES, PII_RULES, Redactor, default_rules
from .rules import RedactionRule, detect_secrets_rules, iban_ok, luhn_ok

__all__ = [
    "DEFAULT_RULES",
    "PII_RULES",
    "UNREADABLE_NAMES",
    "RedactionRule",
    "Redactor",
    "default_rules",
    "detect_secrets_rules",
    "iban_ok",
    "is_sensitive_key",
    "luhn_ok",
    "path_unreadable",
]
