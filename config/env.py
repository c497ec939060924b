"""Read settings from environment variables; a malformed value stops start-up with ImproperlyConfigured."""

from __future__ import annotations

import os
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: expected one of 1/0, true/false, yes/no, on/off.")


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int = 2**31) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name}={raw!r} is out of range: expected {minimum} to {maximum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if not items:
        raise ImproperlyConfigured(f"{name}={raw!r} is empty: expected a comma-separated list of host names.")
    return items


def env_url(name: str, schemes: tuple[str, ...]) -> str | None:
    """Return the URL in `name`, or None when unset; reject a URL whose scheme or host is missing."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    parsed = urlparse(raw.strip())
    if parsed.scheme not in schemes:
        expected = " or ".join(f"{s}://" for s in schemes)
        raise ImproperlyConfigured(f"{name} must start with {expected}; got {parsed.scheme or 'no scheme'!s}.")
    if not parsed.hostname and not parsed.path.strip("/"):
        raise ImproperlyConfigured(f"{name} has no host: expected e.g. {schemes[0]}://user@127.0.0.1:5432/name.")
    try:
        parsed.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a malformed port number.") from None
    return raw.strip()
