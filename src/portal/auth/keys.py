"""The token signing key (ES256) and the public key set published at /.well-known/jwks.json."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey, KeySet

from portal.startup import StartupError

logger = logging.getLogger(__name__)

SIGNING_ALGORITHM = "ES256"


@dataclass(frozen=True)
class SigningKeys:
    """The current signing key plus any older public keys still accepted while tokens expire."""

    current: ECKey
    verification: KeySet

    @property
    def kid(self) -> str:
        kid = self.current.kid
        assert kid is not None
        return kid

    def public_jwks(self) -> dict[str, Any]:
        return dict(self.verification.as_dict(private=False))


def _with_kid(key: ECKey) -> ECKey:
    if key.kid:
        return key
    data = key.as_dict(private=True)
    data.update({"kid": key.thumbprint(), "use": "sig", "alg": SIGNING_ALGORITHM})
    return ECKey.import_key(data)


def load_key_file(path: Path) -> ECKey:
    """The ES256 private key in ``path`` (PEM or JWK); ``StartupError`` saying what is wrong."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise StartupError(
            f"cannot read the signing key file {path} (PORTAL_SIGNING_KEY_FILE): "
            f"{error.strerror or error}"
        ) from error
    try:
        if raw.lstrip().startswith(b"{"):
            key = ECKey.import_key(json.loads(raw))
        else:
            key = ECKey.import_key(raw)
    except Exception as error:  # joserfc and cryptography raise many kinds; all mean "not a key"
        raise StartupError(
            f"the signing key file {path} is not an EC private key in PEM or JWK format"
        ) from error
    if not key.is_private or key.curve_name != "P-256":
        raise StartupError(
            f"the signing key file {path} must hold a P-256 (ES256) private key, not a public "
            "key or another curve"
        )
    return _with_kid(key)


def generate_key() -> ECKey:
    return _with_kid(ECKey.generate_key("P-256", private=True))


def load_previous_key(path: Path) -> ECKey:
    """A retired signing key (private or public) whose tokens are still accepted."""
    try:
        raw = path.read_bytes()
        key = ECKey.import_key(json.loads(raw) if raw.lstrip().startswith(b"{") else raw)
    except OSError as error:
        raise StartupError(
            f"cannot read the previous signing key file {path} "
            f"(PORTAL_SIGNING_KEY_PREVIOUS_FILES): {error.strerror or error}"
        ) from error
    except Exception as error:  # joserfc and cryptography raise many kinds; all mean "not a key"
        raise StartupError(
            f"the previous signing key file {path} is not an EC key in PEM or JWK format"
        ) from error
    if key.curve_name != "P-256":
        raise StartupError(f"the previous signing key file {path} is not a P-256 (ES256) key")
    if key.kid:
        return ECKey.import_key(key.as_dict(private=False))
    data = key.as_dict(private=False)
    data.update({"kid": key.thumbprint(), "use": "sig", "alg": SIGNING_ALGORITHM})
    return ECKey.import_key(data)


def load_or_create_keys(
    *, key_file: Path | None, data_dir: Path, previous_key_files: Sequence[Path] = ()
) -> SigningKeys:
    """The signing key, and the public keys tokens may still be signed with (a rotation:
    tokens signed with a previous key verify until they expire)."""
    if key_file is not None:
        key = load_key_file(key_file)
    else:
        generated = data_dir / "signing-key.jwk"
        if generated.exists():
            key = load_key_file(generated)
        else:
            key = generate_key()
            generated.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(generated, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(key.as_dict(private=True), handle)
            logger.warning("generated a development signing key at %s", generated)
    previous = [load_previous_key(path) for path in previous_key_files]
    return SigningKeys(
        current=key,
        verification=KeySet([key, *(old for old in previous if old.kid != key.kid)]),
    )
