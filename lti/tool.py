"""The glue between pylti1p3 and our models: registrations, one-time nonces, HTTP with timeouts.

pylti1p3 (the maintained fork, pylti1p3next) does the protocol: OIDC login, id_token validation (signature against
the platform's JWKS, kid and alg, exp, issuer and client id, deployment id, message claims), deep linking responses,
and the AGS and NRPS service calls with client-credentials tokens. This module only tells it what we know.
"""

from __future__ import annotations

import hashlib
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from pylti1p3.contrib.django import DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.contrib.django.request import DjangoRequest
from pylti1p3.contrib.django.service_connector import DjangoServiceConnector
from pylti1p3.contrib.django.session import DjangoSessionService
from pylti1p3.deployment import Deployment as LibDeployment
from pylti1p3.exception import LtiException
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract

from lti import keys
from lti.models import Deployment, Platform

HTTP_TIMEOUT_SECONDS = 10  # an LMS that does not answer in 10 s is down: the request fails and is retried later
KEY_SET_SECONDS = 3600  # a platform's public key set is fetched at most this often (or when it signs with a new key)
KEY_SET_REFETCH_SECONDS = 60  # a token with an unknown key refetches the set at most this often per platform


class TimeoutSession(requests.Session):
    """pylti1p3 calls requests without a timeout; a hung LMS must not hold a web process or a worker forever."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", getattr(settings, "LTI_HTTP_TIMEOUT_SECONDS", HTTP_TIMEOUT_SECONDS))
        return super().request(method, url, *args, **kwargs)


def http_session() -> requests.Session:
    session = TimeoutSession()
    session.headers["User-Agent"] = "HyperVLab-LTI/1.0"
    return session


def platform_find(issuer: str, client_id: str | None) -> Platform | None:
    """The active registration for (issuer, client id); without a client id, only an issuer's single registration."""
    candidates = Platform.objects.filter(issuer=issuer, is_active=True)
    if client_id:
        return candidates.filter(client_id=client_id).first()
    found = list(candidates[:2])
    return found[0] if len(found) == 1 else None


def registration_for(platform: Platform) -> Registration:
    key = keys.signing_key()
    return (
        Registration()
        .set_issuer(platform.issuer)
        .set_client_id(platform.client_id)
        .set_auth_login_url(platform.auth_login_url)
        .set_auth_token_url(platform.auth_token_url)
        .set_auth_audience(platform.auth_audience or None)  # type: ignore[arg-type]
        .set_key_set_url(platform.key_set_url)
        .set_key_set(None)
        .set_tool_private_key(key.private_key)
        .set_tool_public_key(key.public_key)
    )


class ToolConf(ToolConfAbstract[DjangoRequest]):
    """Registrations from the Platform table (staff register platforms in the admin)."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    # pylti1p3 calls the *_by_issuer/find_deployment forms only when check_iss_has_one_client() is True, which it
    # never is here (one issuer may hold several registrations); they exist because the abstract base demands them.
    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        raise NotImplementedError("registrations are looked up by issuer and client id")

    def find_registration_by_params(self, iss: str, client_id: str | None, *args: Any, **kwargs: Any) -> Any:
        platform = platform_find(iss, client_id)
        return registration_for(platform) if platform else None

    def find_deployment(self, iss: str, deployment_id: str) -> Any:
        raise NotImplementedError("deployments are looked up by issuer, client id and deployment id")

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> LibDeployment | None:
        platform = platform_find(iss, client_id)
        if platform is None or not deployment_id:
            return None
        if not Deployment.objects.filter(platform=platform, deployment_id=deployment_id).exists():
            return None
        return LibDeployment().set_deployment_id(deployment_id)

    def get_jwks(self, iss: str | None = None, client_id: str | None = None, **kwargs: Any) -> dict[str, Any]:
        return keys.jwks()


class OneTimeNonceSessionService(DjangoSessionService):
    """pylti1p3 only checks that the nonce is in the session; we also remove it, so a nonce is good for one launch."""

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(DjangoRequest(request))
        self._session = request.session

    def check_nonce(self, nonce: str) -> bool:
        key = self._get_key("nonce", nonce)
        return self._session.pop(key, None) is not None


class ServiceConnector(DjangoServiceConnector):
    """Access tokens cached per platform registration: pylti1p3 keys them by issuer only, and one issuer (Canvas)
    may hold several registrations (client ids) with different grants."""

    def _get_cache_key(self, scope_key: str) -> str:
        return f"lti:token:{self._registration.get_client_id()}:{scope_key}"


def oidc_login(request: HttpRequest) -> DjangoOIDCLogin:
    return DjangoOIDCLogin(request, ToolConf(), session_service=OneTimeNonceSessionService(request))


class MessageLaunch(DjangoMessageLaunch):  # type: ignore[misc]
    """pylti1p3's launch with the platform's public key set cached (shared by every process) instead of fetched over
    HTTP on every launch. A token signed with a key the cached set lacks (the platform rotated its keys) fetches the
    set once more, at most once a minute per platform, so a rotation never locks learners out and a forged kid cannot
    make us fetch the platform's keys on every request."""

    def fetch_public_key(self, key_set_url: str) -> Any:
        key = _key_set_cache_key(key_set_url)
        key_set = cache.get(key)
        if key_set is None:
            key_set = super().fetch_public_key(key_set_url)
            cache.set(key, key_set, KEY_SET_SECONDS)
        return key_set

    def get_public_key(self) -> tuple[str, str]:
        try:
            return super().get_public_key()  # type: ignore[no-any-return]
        except LtiException as exc:
            url = self._registration.get_key_set_url()
            if "Unable to find public key" not in str(exc) or not url:
                raise
            if not cache.add(_key_set_cache_key(url) + ":refetched", True, KEY_SET_REFETCH_SECONDS):
                raise  # fetched again less than a minute ago: the key is not the platform's
            cache.delete(_key_set_cache_key(url))
            self._registration.set_key_set(None)
            return super().get_public_key()  # type: ignore[no-any-return]


def _key_set_cache_key(key_set_url: str) -> str:
    return "lti:platform-key-set:" + hashlib.sha256(key_set_url.encode()).hexdigest()


def message_launch(request: HttpRequest) -> DjangoMessageLaunch:
    return MessageLaunch(
        request,
        ToolConf(),
        session_service=OneTimeNonceSessionService(request),
        requests_session=http_session(),
        service_connector_cls=ServiceConnector,
    )


def service_connector(platform: Platform) -> ServiceConnector:
    return ServiceConnector(registration_for(platform), requests_session=http_session())
