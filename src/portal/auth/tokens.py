"""Access tokens: short-lived JWTs signed with ES256 and verified strictly."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from joserfc import jwt
from joserfc.errors import JoseError

from portal.auth.keys import SIGNING_ALGORITHM, SigningKeys


class SubjectKind(StrEnum):
    USER = "user"
    STAFF = "staff"
    CLIENT = "client"
    PROVIDER_CLIENT = "provider_client"


class InvalidTokenError(Exception):
    """The bearer token is malformed, forged, expired or not meant for us."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    subject_kind: SubjectKind
    subject_id: uuid.UUID
    token_id: str
    issued_at: int
    expires_at: int
    scopes: frozenset[str]
    # The sign-in session the token was issued for; None for `portal token` and client tokens.
    session_id: uuid.UUID | None = None


# Clock leeway on every time claim (exp, nbf, iat), fresh or remembered.
LEEWAY_SECONDS = 30
# Tokens whose signature was checked, remembered per service (a few thousand callers' tokens).
VERIFIED_TOKENS = 4096


@dataclass(frozen=True, slots=True)
class _Verified:
    claims: TokenClaims
    not_before: float | None


class VerifiedTokens:
    """Tokens whose signature and claims have been checked, by their exact text.

    A token's bytes never change, so verifying them again gives the same answer: only the clock
    moves. A remembered token is therefore answered without the ES256 signature check (the
    costliest step of an authenticated request), after its expiry, not-before and issue time
    are checked again against the clock with the same leeway. Who the token names is still read
    from the database on every request (deactivation, revocation and sign-out count at once).
    Bounded: the oldest entry goes first. Refused tokens are never remembered."""

    def __init__(self, size: int = VERIFIED_TOKENS) -> None:
        self._size = size
        self._tokens: dict[str, _Verified] = {}

    def get(self, token: str, now: float) -> TokenClaims | None:
        found = self._tokens.get(token)
        if found is None:
            return None
        claims = found.claims
        if (
            claims.expires_at <= now - LEEWAY_SECONDS
            or claims.issued_at > now + LEEWAY_SECONDS
            or (found.not_before is not None and found.not_before > now + LEEWAY_SECONDS)
        ):
            del self._tokens[token]
            raise InvalidTokenError("the token has expired")
        return claims

    def remember(self, token: str, claims: TokenClaims, not_before: float | None) -> None:
        if len(self._tokens) >= self._size:
            del self._tokens[next(iter(self._tokens))]
        self._tokens[token] = _Verified(claims=claims, not_before=not_before)


@dataclass(frozen=True)
class TokenService:
    keys: SigningKeys
    issuer: str
    audience: str
    ttl_seconds: int
    verified: VerifiedTokens = field(default_factory=VerifiedTokens, compare=False, repr=False)

    def mint(
        self,
        *,
        kind: SubjectKind,
        subject_id: uuid.UUID,
        scopes: frozenset[str] = frozenset(),
        session_id: uuid.UUID | None = None,
    ) -> tuple[str, int]:
        """Answer the token and its lifetime in seconds."""
        now = int(time.time())
        claims: dict[str, object] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": f"{kind.value}:{subject_id}",
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl_seconds,
            "jti": secrets.token_urlsafe(16),
        }
        if scopes:
            claims["scope"] = " ".join(sorted(scopes))
        if session_id is not None:
            claims["sid"] = str(session_id)
        header = {"alg": SIGNING_ALGORITHM, "kid": self.keys.kid, "typ": "at+jwt"}
        token = jwt.encode(header, claims, self.keys.current, algorithms=[SIGNING_ALGORITHM])
        return token, self.ttl_seconds

    def verify(self, token: str) -> TokenClaims:
        remembered = self.verified.get(token, time.time())
        if remembered is not None:
            return remembered
        return self._verify(token)

    def _verify(self, token: str) -> TokenClaims:
        try:
            decoded = jwt.decode(token, self.keys.verification, algorithms=[SIGNING_ALGORITHM])
            registry = jwt.JWTClaimsRegistry(
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.audience},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                jti={"essential": True},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError, TypeError) as error:
            raise InvalidTokenError(str(error)) from error
        if decoded.header.get("typ") != "at+jwt":
            raise InvalidTokenError("not an access token")
        claims = decoded.claims
        lifetime = _number(claims["exp"]) - _number(claims["iat"])
        if lifetime > self.ttl_seconds:
            # Never minted here: whoever holds the signing key is not to outlive the setting.
            raise InvalidTokenError("lifetime longer than this server issues")
        kind_text, _, id_text = str(claims["sub"]).partition(":")
        try:
            kind = SubjectKind(kind_text)
            subject_id = uuid.UUID(id_text)
        except ValueError as error:
            raise InvalidTokenError("malformed subject") from error
        scope_text = claims.get("scope", "")
        if not isinstance(scope_text, str):
            raise InvalidTokenError("malformed scope")
        sid = claims.get("sid")
        session_id: uuid.UUID | None = None
        if sid is not None:
            try:
                session_id = uuid.UUID(str(sid))
            except ValueError as error:
                raise InvalidTokenError("malformed session id") from error
        verified = TokenClaims(
            subject_kind=kind,
            subject_id=subject_id,
            token_id=str(claims["jti"]),
            issued_at=int(claims["iat"]),
            expires_at=int(claims["exp"]),
            scopes=frozenset(scope_text.split()),
            session_id=session_id,
        )
        not_before = claims.get("nbf")
        self.verified.remember(
            token, verified, _number(not_before) if not_before is not None else None
        )
        return verified


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTokenError("malformed time claim")
    return float(value)
