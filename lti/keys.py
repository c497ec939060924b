"""The tool's signing keys: generation, rotation and the published key set (JWKS).

The JWK conversion and the key id (the RFC 7638 thumbprint) come from pylti1p3/jwcrypto, never written by hand.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import transaction
from django.utils import timezone
from pylti1p3.registration import Registration

from lti.models import ToolKey

KEY_SIZE = 2048  # bits: RS256 keys, as the IMS Security Framework 1.0 requires of LTI 1.3 (section 6.1)


def _new_pem_pair() -> tuple[str, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def public_jwk(key: ToolKey) -> dict[str, Any]:
    """The public JWK of a key, as platforms read it from our JWKS URL."""
    return dict(Registration.get_jwk(key.public_key))


def key_create() -> ToolKey:
    """Generate a new key pair; it becomes the signing key (the newest unretired one)."""
    private_pem, public_pem = _new_pem_pair()
    kid = Registration.get_jwk(public_pem)["kid"]
    return ToolKey.objects.create(kid=kid, private_key=private_pem, public_key=public_pem)


def signing_key() -> ToolKey:
    """The key that signs our messages and service requests; created on first use."""
    key = ToolKey.objects.filter(retired_at__isnull=True).first()
    return key or key_create()


def published_keys() -> list[ToolKey]:
    return list(ToolKey.objects.filter(retired_at__isnull=True))


def jwks() -> dict[str, list[dict[str, Any]]]:
    """The key set published at /lti/jwks.json: every unretired key, so tokens signed before a rotation still verify."""
    signing_key()
    return {"keys": [public_jwk(key) for key in published_keys()]}


@transaction.atomic
def keys_rotate(keep_previous_for: timedelta = timedelta(days=2), now: Any = None) -> tuple[ToolKey, list[ToolKey]]:
    """Make a new signing key; retire keys that stopped signing more than `keep_previous_for` ago.

    Returns the new key and the keys retired now. The previous signing key stays published: platforms cache our
    JWKS and may still verify a client assertion it signed.
    """
    now = now or timezone.now()
    new = key_create()
    retired = []
    unretired = list(ToolKey.objects.filter(retired_at__isnull=True).exclude(pk=new.pk).order_by("-created_at", "-id"))
    # The newest older key stopped signing just now; the ones before it stopped when their successor was made.
    successors_created = [new.created_at] + [key.created_at for key in unretired]
    for key, replaced_at in zip(unretired, successors_created, strict=False):
        if replaced_at <= now - keep_previous_for:
            key.retired_at = now
            key.save(update_fields=["retired_at"])
            retired.append(key)
    return new, retired
