"""The token and personal-data rules: named patterns, each with the literals that must be present.

Token shapes come from two places. :data:`TOKEN_RULES` are Medic's own, written from the issuers'
documented prefixes (GitHub, GitLab, Slack, Stripe, npm, PyPI, Hugging Face, Supabase, Sentry, ...).
:func:`detect_secrets_rules` takes the regexes of the maintained ``detect-secrets`` package
(Yelp, Apache-2.0: ``detect_secrets.plugins.*.denylist``) as data, so its rule set is kept up to date
by upgrading the package rather than by copying it here.

Every rule carries ``keywords``: lower-case literals at least one of which must occur in the text
before the regex runs. Most text carries no secret at all, and a substring test is two orders of
magnitude cheaper than a regex scan, which is what keeps the watcher's per-event redaction fast.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PII_RULES", "TOKEN_RULES", "RedactionRule", "detect_secrets_rules", "iban_ok", "luhn_ok"]


@dataclass(frozen=True, slots=True)
class RedactionRule:
    """A named pattern; group ``secret`` (else group 1, else the whole match) is replaced.

    ``keywords`` gate the rule (empty: always run), so does ``min_digits`` (a card number cannot hide
    in text with fewer than 13 digits); ``valid`` confirms a candidate (checksums).
    """

    name: str
    pattern: re.Pattern[str]
    keywords: tuple[str, ...] = ()
    valid: Callable[[str], bool] | None = field(default=None, compare=False)
    min_digits: int = 0


def _rule(
    name: str,
    pattern: str,
    keywords: tuple[str, ...] = (),
    *,
    flags: int = 0,
    valid: Callable[[str], bool] | None = None,
    min_digits: int = 0,
) -> RedactionRule:
    return RedactionRule(name, re.compile(pattern, flags), keywords, valid, min_digits)


def luhn_ok(candidate: str) -> bool:
    """True when the digits of ``candidate`` (13-19 of them) pass the Luhn check: a card number."""
    digits = [int(c) for c in candidate if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if i % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def iban_ok(candidate: str) -> bool:
    """True when ``candidate`` is an IBAN whose ISO 13616 mod-97 checksum holds."""
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


_SEP = r"[ .-]?"

#: Token shapes with a documented prefix; order matters (private keys first, whole blocks).
TOKEN_RULES: tuple[RedactionRule, ...] = (
    _rule(
        "private_key",
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
        ("private key",),
    ),
    _rule("private_key", r"PuTTY-User-Key-File-\d:[\s\S]*?(?:Private-MAC:\s*\S+|\Z)", ("putty-user-key",)),
    _rule("age_secret_key", r"\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b", ("age-secret-key",)),
    _rule(
        "aws_access_key",
        r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b",
        ("akia", "asia", "abia", "acca", "a3t", "agpa", "aida", "aroa", "anpa", "anva", "aipa"),
    ),
    _rule("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*", ("eyj",)),
    _rule("anthropic_key", r"\bsk-ant-[A-Za-z0-9_-]{10,}", ("sk-ant-",)),
    _rule("openai_key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}", ("sk-",)),
    _rule(
        "github_token",
        r"\b(?:gh[pousr]_[A-Za-z0-9_]{30,}|github_pat_[A-Za-z0-9_]{30,})",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    _rule(
        "gitlab_token",
        r"\b(?:glpat|gldt|glft|glsoat|glrt|glcbt|glimt|glptt|glagent|gloas|glffct)-[A-Za-z0-9_-]{20,}",
        ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "glcbt-", "glimt-", "glptt-", "glagent-", "gloas-", "glffct-"),
    ),
    _rule("slack_token", r"\bxox[abposre]-[A-Za-z0-9-]{10,}", ("xox",)),
    _rule("slack_app_token", r"\bxapp-\d-[A-Za-z0-9-]{10,}", ("xapp-",)),
    _rule("slack_webhook", r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]+", ("hooks.slack",)),
    _rule("discord_webhook", r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]+", ("discord",)),
    _rule("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}", ("k_live_", "k_test_")),
    _rule("stripe_webhook_secret", r"\bwhsec_[A-Za-z0-9+/=]{16,}", ("whsec_",)),
    _rule("npm_token", r"\bnpm_[A-Za-z0-9]{30,}", ("npm_",)),
    _rule("pypi_token", r"\bpypi-AgE[A-Za-z0-9_-]{50,}", ("pypi-",)),
    _rule("huggingface_token", r"\b(?:hf_|api_org_)[A-Za-z0-9]{30,}", ("hf_", "api_org_")),
    _rule("supabase_secret_key", r"\bsb_secret_[A-Za-z0-9_-]{16,}", ("sb_secret_",)),
    _rule("supabase_access_token", r"\bsbp_[a-f0-9]{40}\b", ("sbp_",)),
    _rule("sentry_token", r"\b(?:sntrys_[A-Za-z0-9+/=_]{40,}|sntryu_[a-f0-9]{64})", ("sntry",)),
    _rule("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}", ("aiza",)),
    _rule("google_oauth_secret", r"\bGOCSPX-[A-Za-z0-9_-]{28}", ("gocspx-",)),
    _rule("sendgrid_key", r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}", ("sg.",)),
    _rule("mailgun_key", r"\bkey-[0-9a-f]{32}\b", ("key-",)),
    _rule("shopify_token", r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b", ("shpat_", "shpss_", "shpca_", "shppa_")),
    _rule("digitalocean_token", r"\bdo[por]_v1_[a-f0-9]{64}\b", ("_v1_",)),
    _rule("linear_key", r"\blin_api_[A-Za-z0-9]{40}\b", ("lin_api_",)),
    _rule("postman_key", r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b", ("pmak-",)),
    _rule("doppler_token", r"\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}", ("dp.",)),
    _rule("databricks_token", r"\bdapi[a-f0-9]{32}\b", ("dapi",)),
    _rule("vercel_token", r"\b(?:vcp|vci|vca|vcr|vck)_[A-Za-z0-9]{24,}", ("vcp_", "vci_", "vca_", "vcr_", "vck_")),
    _rule("azure_storage_key", r"AccountKey=(?P<secret>[A-Za-z0-9+/=]{40,})", ("accountkey",)),
    # The whole userinfo goes, also when the user name is empty (redis://:pw@host) or only a token is given.
    _rule(
        "url_credentials",
        r"(?i)\b[a-z][a-z0-9+.-]*://(?P<secret>[^\s/@:?#\"'<>]*:[^\s/@?#\"'<>]+|[^\s/@:?#\"'<>]{16,})@",
        ("://",),
    ),
    _rule(
        "bearer_token",
        r"(?i)\b(?:bearer|basic|digest|token)\s+(?P<secret>[A-Za-z0-9._~+/=-]{8,})",
        ("bearer", "basic", "digest", "token"),
    ),
)

#: Personal data. Candidates with a checksum (cards, IBANs) are confirmed before they are replaced.
PII_RULES: tuple[RedactionRule, ...] = (
    # Issuer prefixes 2-6 only: epoch-millisecond timestamps (13 digits starting with 1) are not cards.
    _rule("credit_card", rf"(?<![\d.-])[2-6]\d{{3}}(?:{_SEP}\d){{9,15}}(?![\d])", valid=luhn_ok, min_digits=13),
    _rule("iban", r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b", valid=iban_ok, min_digits=4),
    _rule("email", r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", ("@", "%40")),
    _rule("phone", r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?![\w])", ("+",), min_digits=7),
    _rule("phone", r"(?<!\w)\(\d{3}\)\s?\d{3}[ .-]\d{4}(?!\w)", ("(",), min_digits=10),
    _rule("phone", r"(?<![\w.-])\d{3}[.-]\d{3}[.-]\d{4}(?![\w.-])", min_digits=10),
)

# detect-secrets plugins whose shapes Medic covers itself, or that are not secrets in telemetry
# (a public IP address is needed to diagnose; a private-key header is handled as a whole block above).
_SKIPPED_PLUGINS = frozenset({"IPPublicDetector", "PrivateKeyDetector", "JwtTokenDetector"})

# The literals each plugin's patterns need, so the regexes only run on text that can match.
_PLUGIN_KEYWORDS: dict[str, tuple[str, ...]] = {
    "ArtifactoryDetector": ("akc", "ap"),
    "AWSKeyDetector": ("akia", "asia", "abia", "acca", "a3t", "aws"),
    "AzureStorageKeyDetector": ("accountkey",),
    "BasicAuthDetector": ("://",),
    "CloudantDetector": ("cl",),
    "GitHubTokenDetector": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    "GitLabTokenDetector": ("gl", "gr1348941"),
    "IbmCloudIamDetector": ("key", "pwd", "pass", "token"),
    "IbmCosHmacDetector": ("secret",),
    "MailchimpDetector": ("-us",),
    "NpmDetector": ("_authtoken",),
    "OpenAIDetector": ("t3blbkfj",),
    "PypiTokenDetector": ("pypi-",),
    "SendGridDetector": ("sg.",),
    "SlackDetector": ("xox", "hooks.slack"),
    "SoftlayerDetector": ("softlayer", "sl"),
    "SquareOAuthDetector": ("sq0csp-",),
    "StripeDetector": ("k_live_",),
    "TelegramBotTokenDetector": (":",),
    "TwilioKeyDetector": ("ac", "sk"),
}


# Digits each plugin's shortest match needs (Telegram's bot id, Discord's snowflake in base64 has none).
_PLUGIN_DIGITS: dict[str, int] = {"TelegramBotTokenDetector": 8, "MailchimpDetector": 1}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", name.removesuffix("Detector")).lower()


def detect_secrets_rules() -> tuple[RedactionRule, ...]:
    """The regex rules of every ``detect-secrets`` regex plugin (bar :data:`_SKIPPED_PLUGINS`), as data.

    A plugin the table above does not know runs ungated: a new upstream rule is used at once,
    merely without the keyword shortcut.
    """
    from detect_secrets import plugins
    from detect_secrets.plugins.base import RegexBasedDetector

    rules: list[RedactionRule] = []
    for module_info in sorted(pkgutil.iter_modules(plugins.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"detect_secrets.plugins.{module_info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or not issubclass(cls, RegexBasedDetector) or cls is RegexBasedDetector:
                continue
            if name in _SKIPPED_PLUGINS:
                continue
            for pattern in cls().denylist:
                rules.append(
                    RedactionRule(_snake(name), pattern, _PLUGIN_KEYWORDS.get(name, ()), min_digits=_PLUGIN_DIGITS.get(name, 0))
                )
    rules.append(_high_entropy_rule())
    return tuple(rules)


def _high_entropy_rule() -> RedactionRule:
    """Long base64-alphabet runs above detect-secrets' entropy limit: tokens of unknown issuers, key lines.

    This is what catches a private key logged one line per record (no BEGIN line in sight) and any
    credential no prefix rule knows. Mixed case and a digit are required as well, so identifiers and
    paths, whose entropy is low anyway, are never candidates.
    """
    pattern = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{40,}={0,2}(?![A-Za-z0-9+/=_-])")
    return RedactionRule("high_entropy_string", pattern, valid=_high_entropy, min_digits=1)


@functools.lru_cache(maxsize=1)
def _entropy_plugin() -> Any:
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString

    return Base64HighEntropyString()


def _high_entropy(candidate: str) -> bool:
    # module level, not a closure: rules travel to the watcher's worker processes by pickle
    body = candidate.rstrip("=")
    mixed = any(c.isupper() for c in body) and any(c.islower() for c in body) and any(c.isdigit() for c in body)
    plugin = _entropy_plugin()
    return mixed and bool(plugin.calculate_shannon_entropy(body) > plugin.entropy_limit)
