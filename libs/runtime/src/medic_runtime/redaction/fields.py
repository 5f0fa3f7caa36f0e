"""Secrets found by the name they are given: ``key = value`` in every quoting style code and logs use.

One pattern covers ``k=v``, ``k: v``, ``"k": "v"``, ``'k': 'v'``, ``k='v'``, ``{ k: 'v' }``, escaped
JSON (``\\"k\\": \\"v\\"``), URL query pairs (also ``%3D``-encoded), YAML block scalars and a value
on the line after its key; a second one covers pairs written as lists (Sentry's ``query_string``:
``[["token", "v"]]``), a third header lines (``Cookie: a=b; c=d``, ``Authorization: ...`` to the end
of the line). Which names are sensitive is decided by :func:`is_sensitive_key`, in one place, for
text and for mapping keys alike.
"""

from __future__ import annotations

import re

__all__ = ["FIELD_KEYWORDS", "HEADER_PAIR", "KEYED_PAIR", "LIST_PAIR", "is_sensitive_key", "value_is_reference"]

# A name is sensitive when one of these occurs in it (``db_password``, ``X-Api-Key``, ``sessionId``).
_SENSITIVE_PART = (
    r"passw(?:or)?d|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
    r"client[_-]?key|signing[_-]?key|encryption[_-]?key|master[_-]?key|auth|credential|session|cookie|"
    r"signature|\bdsn\b|jwt|bearer|cvv|cvc|\bssn\b|card[_-]?number|\bpan\b|\biban\b|\bpin\b|\botp\b"
)
_SENSITIVE = re.compile(rf"(?i)(?:{_SENSITIVE_PART})")
# Whole names that are sensitive although short or generic (``pass``, ``pw``, Express' ``sid``).
_SENSITIVE_WORD = re.compile(r"(?i)^(?:.*[_.-])?(?:pass|pw|sid|sess|salt|sig)$")
# Names sensitive only as URL query keys: an OAuth ``?code=``; ``"code": "ECONNRESET"`` in JSON is not.
_QUERY_ONLY = re.compile(r"(?i)^(?:code|state|key|sig|k|hash|nonce|ticket|x-amz-[a-z-]+)$")
# Names that merely mention a sensitive word and carry no secret (``author``, ``token_count``).
_NOT_SENSITIVE = re.compile(
    r"(?i)^(?:author(?:s|_?name|_?email|ity|ities)?|authored|authenticated|is_?authenticated|"
    r"auth_?(?:type|method|provider|mode|url|uri|endpoint|domain|host|scheme)|"
    r"(?:max_?|num_?|n_?)?tokens?_?(?:count|type|usage|limit|len|length|kind|endpoint|url)|token_?type|"
    r"session_?(?:count|timeout|timeout_ms|length|duration|ttl|expires|expiry|started|start|end|state|status)|"
    r"cookie_?(?:name|domain|path|secure|samesite|max_?age)|password_?(?:policy|length|min_?length|reset_?url|changed_?at)|"
    r"keyboard|monkey|keys|keyword|keywords|primary_?key|foreign_?key|sort_?key|partition_?key|key_?id|kid)$"
)

#: Lower-case literals one of which occurs in any text a field rule can match (the cheap gate).
FIELD_KEYWORDS: tuple[str, ...] = (
    "pass", "pwd", "secret", "token", "key", "auth", "credential", "session", "cookie", "signature", "dsn",
    "jwt", "bearer", "cvv", "cvc", "ssn", "card", "pan", "iban", "pin", "otp", "pw", "sid", "sess", "salt",
    "sig", "code", "state", "hash", "nonce", "ticket", "amz",
)  # fmt: skip


def is_sensitive_key(key: str, *, in_query: bool = False) -> bool:
    """Whether a value stored under ``key`` is a secret whatever it looks like (query keys: ``in_query``)."""
    name = key.strip().strip("\"'`\\[]")
    # ``--- PASS: TestLogin`` is Go's test report, not a password.
    if not name or name == "PASS" or _NOT_SENSITIVE.match(name):
        return False
    if _SENSITIVE.search(name) or _SENSITIVE_WORD.match(name):
        return True
    return in_query and _QUERY_ONLY.match(name) is not None


# Values that name where a secret comes from rather than being one: code keeps them readable.
_REFERENCE = re.compile(
    r"^(?:process\.env\b|os\.environ\b|os\.getenv\b|getenv\b|env\(|ENV\[|\$\{|\$[A-Z_]|settings\.|config\.|"
    r"self\.|this\.|import\.meta\.env\b|Deno\.env\b|[|>][-+]?$|None$|null$|nil$|undefined$|true$|false$|True$|False$|\[REDACTED)"
)


def value_is_reference(value: str) -> bool:
    """True for values that are not secrets themselves: empty, ``None``/``null``, an env-variable lookup."""
    stripped = value.strip()
    return not stripped or _REFERENCE.match(stripped) is not None


#: ``key <sep> value`` in every quoting style; the key's quote must close the same way it opened.
#: It is only ever matched *at* a key that contains one of :data:`FIELD_KEYWORDS` (see the redactor),
#: never searched for: a search would try every word of every line.
KEYED_PAIR = re.compile(
    r"""
    (?P<lead>[?&;]|%26|%3[fF])?                        # a URL query or cookie pair starts here
    (?P<kq>\\["']|["'`])?                              # the key's opening quote (escaped JSON too)
    (?<![A-Za-z0-9_$@-])
    (?P<key>[A-Za-z_$@][A-Za-z0-9_.$@-]{0,80})
    (?(kq)(?P=kq))
    (?P<sep>[ \t]*(?:=>|:=|===?|==|=|:(?!:)|%3[dD])[ \t]*(?:\r?\n[ \t]*)?)
    (?:
        \\"(?P<v1>(?:[^"\\]|\\[^"])*?)\\"               # \"escaped JSON\"
      | "(?P<v2>(?:[^"\\\n]|\\.)*)"
      | '(?P<v3>(?:[^'\\\n]|\\.)*)'
      | `(?P<v4>[^`]*)`
      | [|>][-+]?[ \t]*\r?\n(?P<v5>(?:[ \t]+[^\n]*(?:\n|\Z))+)   # a YAML block scalar
      | (?P<v6>(?![{\[])(?:(?!%26)[^\s"'&,;}\]<>)`])+)   # a bare scalar, not a nested object or list
    )
    """,
    re.VERBOSE,
)

#: ``["key", "value"]`` / ``('key', 'value')``: pairs as lists (Sentry ``query_string``, headers, cookies).
LIST_PAIR = re.compile(
    r"""[\[(]\s*(?P<q>\\?["'])(?P<key>[^"'\\\n]{1,80})(?P=q)\s*,\s*(?P=q)(?P<secret>(?:[^"'\\\n]|\\[^"'])*)(?P=q)\s*[\])]"""
)

#: A header line whose whole value is secret: ``Cookie: a=b; c=d``, ``Authorization: Digest ...``.
HEADER_PAIR = re.compile(
    r"(?im)(?<![\w-])(?P<key>(?:proxy-)?authorization|set-cookie|cookie|x-api-key|x-auth-token|x-csrf-token)"
    r"(?P<sep>[ \t]*:[ \t]*)(?P<secret>[^\r\n\"'}]+)"
)
