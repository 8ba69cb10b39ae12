"""Which passwords people may choose, after NIST SP 800-63B (section 5.1.1.2, and rev. 4).

- Length is what counts: at least 15 characters when the password is the only factor, at least 8
  when the person has a confirmed second factor (``totp_confirmed_at``). Characters are Unicode
  code points after NFKC normalisation, the same form that is hashed; nothing is ever truncated.
- At most 256 characters. NIST asks that at least 64 be allowed; 256 is four times that, longer
  than any passphrase a person types or a password manager generates by default, and it bounds the
  work an attacker-supplied string costs on every check (argon2 digests the whole input first; the
  guessability estimate below is quadratic in the length).
- No composition rules (no "one digit, one symbol"): they make passwords harder to remember, not
  harder to guess.
- Refused when it is a known breached password (PASSWORD_BREACHED), or little more than a
  common one (PASSWORD_TOO_COMMON):
    * the list: ``zxcvbn``'s ``passwords`` frequency list, the 30,000 most frequent passwords of
      a corpus of ten million leaked ones, compared case-insensitively. zxcvbn (the maintained
      Python port of Dropbox's estimator, ``zxcvbn>=4.5``) was chosen over the alternatives:
      Have I Been Pwned's range API is larger but online (a network call and a third party at
      every password change, and no answer offline or in tests); the packages that bundle big
      breach corpora are unmaintained or ship hundreds of megabytes. zxcvbn is small, pure Python,
      widely used, and its lists ship inside the wheel.
    * the patterns: zxcvbn's estimate of the guesses needed (dictionary words of its lists with
      l33t and reversed forms, repeats, sequences, keyboard rows, dates) below a million, e.g.
      "passwordpassword" or "1qaz2wsx3edc4rfv5tgb". zxcvbn estimates at most 72 characters; a
      longer password is only checked against the list and the context words.
- Refused when it contains context words an attacker tries first: the local part of the person's
  email (when at least 3 characters, any case), and the product's name: "portal" and "employer
  health" (any case, with or without spaces or punctuation between the words).

Each refusal is a ``PasswordRejected`` with its own stable code and a message saying why.

zxcvbn is imported at the first check, not with this module: its lists take about 12 MB of
memory, which a serving process that never sees a password change need not hold.
"""

from __future__ import annotations

import re
from functools import cache

from portal.auth.passwords import normalize
from portal.resolvers.errors import ErrorCode, PortalError

MIN_LENGTH_PASSWORD_ONLY = 15
MIN_LENGTH_WITH_SECOND_FACTOR = 8
MAX_LENGTH = 256
MIN_EMAIL_NAME_LENGTH = 3
# Fewer estimated guesses than 10**6 is within reach of an online attack spread over time.
MIN_GUESSES_LOG10 = 6.0
ESTIMATOR_MAX_LENGTH = 72
# Compared after removing everything but letters and digits, so "Employer-Health" counts too.
PRODUCT_NAMES = ("portal", "employerhealth")

_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")


class PasswordRejected(PortalError):
    """A password the policy refuses; ``code`` says which rule."""


@cache
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _compact(text: str) -> str:
    return _NOT_ALPHANUMERIC.sub("", text.casefold())


def check_password(
    password: str, *, email: str | None, has_second_factor: bool, field: str = "password"
) -> None:
    """Raise ``PasswordRejected`` unless ``password`` may be set for this person."""
    normalized = normalize(password)
    length = len(normalized)
    minimum = MIN_LENGTH_WITH_SECOND_FACTOR if has_second_factor else MIN_LENGTH_PASSWORD_ONLY
    if length < minimum:
        raise PasswordRejected(
            f"The password must have at least {minimum} characters"
            + ("" if has_second_factor else " (8 once a second factor is set up)")
            + f"; it has {length}. A few unrelated words make a long password easy to remember.",
            code=ErrorCode.PASSWORD_TOO_SHORT,
            field=field,
        )
    if length > MAX_LENGTH:
        raise PasswordRejected(
            f"The password may have at most {MAX_LENGTH} characters; it has {length}.",
            code=ErrorCode.PASSWORD_TOO_LONG,
            field=field,
        )
    folded = normalized.casefold()
    local_part = normalize(email or "").partition("@")[0].strip().casefold()
    if len(local_part) >= MIN_EMAIL_NAME_LENGTH and local_part in folded:
        raise PasswordRejected(
            "The password must not contain the name of your email address.",
            code=ErrorCode.PASSWORD_CONTAINS_EMAIL,
            field=field,
        )
    compact = _compact(normalized)
    if any(name in compact for name in PRODUCT_NAMES):
        raise PasswordRejected(
            "The password must not contain the product's name (portal, employer health).",
            code=ErrorCode.PASSWORD_CONTAINS_PRODUCT_NAME,
            field=field,
        )
    if folded in common_passwords():
        raise PasswordRejected(
            "This password is on a list of passwords exposed in data breaches; choose another.",
            code=ErrorCode.PASSWORD_BREACHED,
            field=field,
        )
    from zxcvbn import zxcvbn

    if length <= ESTIMATOR_MAX_LENGTH and (zxcvbn(normalized)["guesses_log10"] < MIN_GUESSES_LOG10):
        raise PasswordRejected(
            "This password is too easy to guess: it is made of common passwords, repeats, "
            "sequences or keyboard patterns. A few unrelated words work better.",
            code=ErrorCode.PASSWORD_TOO_COMMON,
            field=field,
        )
