"""The audit signing key: an Ed25519 private key in a PEM file, generated on first start if absent."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

__all__ = ["SigningKeyError", "load_or_create_signing_key", "load_public_key", "public_pem"]


class SigningKeyError(RuntimeError):
    """The key file exists but holds no Ed25519 key."""


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """The key in ``path``; a new one written there (mode 0600, never overwritten) when the file is absent."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        try:
            # O_EXCL: two instances starting together must not each write (and sign with) their own key.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} holds a {type(key).__name__}, not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file holding the public key or the private key."""
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        private = load_pem_private_key(data, password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise SigningKeyError(f"{path} holds no Ed25519 key")
        return private.public_key()
    public = load_pem_public_key(data)
    if not isinstance(public, Ed25519PublicKey):
        raise SigningKeyError(f"{path} holds no Ed25519 public key")
    return public


def public_pem(public: Ed25519PublicKey) -> str:
    """The public key as PEM (SubjectPublicKeyInfo)."""
    return public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode("ascii")
