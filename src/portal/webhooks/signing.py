"""Standard Webhooks signing (https://www.standardwebhooks.com): ``whsec_`` secrets and
``webhook-id``/``webhook-timestamp``/``webhook-signature`` headers, HMAC-SHA256 over
``id.timestamp.body``. Signing uses the `standardwebhooks` package itself, the library receivers
verify with."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime
from math import floor

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 -- the prefix of every secret, not a secret
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(
    *, signing_secrets: Sequence[str], message_id: str, timestamp: datetime, body: str
) -> dict[str, str]:
    """The three Standard Webhooks headers; one ``v1,`` signature per secret (during a rotation's
    grace period both the new and the old secret sign)."""
    signatures = [
        Webhook(secret).sign(msg_id=message_id, timestamp=timestamp, data=body)
        for secret in signing_secrets
    ]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(floor(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
