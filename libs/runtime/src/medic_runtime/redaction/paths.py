"""Which repository files are never shown to a model: one rule for the investigator and the fixer.

A file is unreadable when any component of its repository-relative path matches one of
:data:`UNREADABLE_NAMES` (case-insensitively): environment files, package-registry credentials,
key material, credential stores, and anything under a ``secrets`` directory. Every other file a
model reads is still passed through :meth:`~medic_runtime.redaction.Redactor.file_body`.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import PurePosixPath

__all__ = ["UNREADABLE_NAMES", "path_unreadable"]

#: Path components (directory or file names) that make a path unreadable.
UNREADABLE_NAMES: tuple[str, ...] = (
    ".git",
    ".env*",
    "*.env",
    ".npmrc",
    ".yarnrc",
    ".yarnrc.yml",
    ".pypirc",
    ".netrc",
    "_netrc",
    ".git-credentials",
    ".htpasswd",
    ".pgpass",
    ".dockercfg",
    ".docker",
    ".aws",
    ".ssh",
    ".gnupg",
    ".kube",
    "secrets",
    ".secrets",
    "secret",
    "secrets.*",
    "credentials",
    "credentials.*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "*.gpg",
    "*.asc",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "service-account*.json",
    "*-credentials.json",
    "terraform.tfstate*",
    "*.tfvars",
)


def path_unreadable(path: str) -> bool:
    """True when ``path`` (repository-relative, POSIX or Windows separators) must not be shown to a model."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    return any(fnmatchcase(part.lower(), pattern) for part in parts for pattern in UNREADABLE_NAMES)
