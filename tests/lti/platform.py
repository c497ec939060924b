"""A real LTI 1.3 platform (an LMS) on loopback, built on the `lti1p3platform` package, for end-to-end tests.

It runs as a WSGI server in a thread on 127.0.0.1 and does what Moodle or Canvas does: starts the OIDC login,
answers the authentication request with a signed id_token (resource link or deep linking request, with the AGS and
NRPS claims), publishes its JWKS, issues client-credentials access tokens, and serves the AGS line items and scores
and the NRPS membership container. The tool under test talks to it over real HTTP (pylti1p3 uses requests); the
browser side (following the login page and posting the launch form) is played by the Django test client.

Platform state lives in memory in this object; the server thread never touches the tool's database.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import threading
import time
import typing as t
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.exceptions import LineItemNotFoundException
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest
from lti1p3platform.response import Response
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import AssignmentsGradesService, NamesRoleProvisioningService, TPage

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
FILTERS = ("resourceLinkId", "tag", "resourceId")
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def rsa_pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@dataclass
class Person:
    user_id: str
    roles: list[str]
    name: str = ""
    given_name: str = ""
    family_name: str = ""
    email: str = ""


@dataclass
class Message:
    """What the LMS is about to launch: who, which link (or a deep linking request), in which course."""

    person: Person
    kind: str = "resource"  # or "deep"
    resource_link_id: str = "link-1"
    custom: dict[str, str] = field(default_factory=dict)
    context_id: str = "course-101"
    context_title: str = "Virtualisation 101"
    lineitem_id: str | None = None  # the link's own line item (deep linking made it), else the tool creates one
    ags: bool = True
    nrps: bool = True


class _WsgiRequest(Request):
    def build_metadata(self, request: t.Any) -> TRequest:
        environ, body = request
        content_type = environ.get("CONTENT_TYPE", "")
        form = dict(parse_qsl(body.decode())) if "form-urlencoded" in content_type else {}
        headers = {"Authorization": environ.get("HTTP_AUTHORIZATION", "")}
        return {
            "method": environ["REQUEST_METHOD"],
            "form_data": form,
            "get_data": dict(parse_qsl(environ.get("QUERY_STRING", ""))),
            "headers": headers,
            "content_type": content_type,
            "path": environ.get("PATH_INFO", ""),
            "json": json.loads(body) if body and "json" in content_type else None,
        }


class _Conf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: t.Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: t.Any) -> Registration:
        return self._registration  # type: ignore[return-value]


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def __init__(self, request: Request, conf: _Conf, platform: LoopbackPlatform, message: Message) -> None:
        super().__init__(request, conf)
        self.platform = platform
        self.message = message

    def prepare_launch(self, preflight_response: dict[str, t.Any]) -> None:
        m, p = self.message, self.platform
        self.set_user_data(m.person.user_id, m.person.roles, m.person.name or None, m.person.email or None)
        extra: dict[str, t.Any] = {}
        if m.person.given_name:
            extra["given_name"] = m.person.given_name
        if m.person.family_name:
            extra["family_name"] = m.person.family_name
        self.set_extra_claims(extra)
        self.set_launch_context_claim(m.context_id, context_title=m.context_title, context_label=m.context_id)
        if m.kind == "deep":
            self.set_dl(p.url("/deep_link_return"), title="Add an activity", accept_types={"ltiResourceLink"})
        else:
            self.set_resource_link_claim(m.resource_link_id, title="Activity")
            if m.custom:
                self.set_custom_parameters_claim(m.custom)
        if m.ags:
            lineitem_url = p.url(f"/lineitems/{m.lineitem_id}") if m.lineitem_id else None
            self.set_ags(p.url("/lineitems"), lineitem_url)
        if m.nrps:
            self.set_nrps(p.url("/memberships"))

    def render_launch_form(self, launch_data: dict[str, t.Any], **kwargs: t.Any) -> dict[str, t.Any]:
        return launch_data


class _Ags(AssignmentsGradesService):
    def __init__(self, request: Request, conf: _Conf, platform: LoopbackPlatform) -> None:
        super().__init__(request, conf, platform.url("/lineitems"))
        self.platform = platform

    def find_lineitems(self, page: int = 1, limit: int | None = None, **filters: t.Any) -> TPage:
        items = [
            item
            for item in self.platform.lineitems.values()
            if all(
                item.get(key) == value
                for key, value in filters.items()
                if key in ("resourceLinkId", "tag", "resourceId")
            )
        ]
        return {"content": items, "has_next": False, "next": None}

    def find_lineitem(self, line_item_id: str) -> t.Any:
        if line_item_id not in self.platform.lineitems:
            raise LineItemNotFoundException()
        return self.platform.lineitems[line_item_id]

    def create_lineitem(self, creation_data: t.Any) -> t.Any:
        return self.platform.lineitem_add(dict(creation_data))

    def update_lineitem(self, update_data: t.Any) -> t.Any:
        self.platform.lineitems[update_data["id"]].update(update_data)
        return self.platform.lineitems[update_data["id"]]

    def delete_lineitem(self, line_item_id: str) -> None:
        self.platform.lineitems.pop(line_item_id, None)

    def update_score(self, line_item_id: str, score: t.Any) -> UpdateScoreStatus:
        item_id = line_item_id.rsplit("/", 1)[-1]
        if item_id not in self.platform.lineitems:
            raise LineItemNotFoundException()
        self.platform.scores.append({"lineitem": item_id, **score})
        return UpdateScoreStatus.SUCCESS

    def get_results(
        self, line_item_id: str, page: int = 1, limit: int | None = None, user_id: str | None = None
    ) -> TPage:
        return {"content": [], "has_next": False, "next": None}


class _Nrps(NamesRoleProvisioningService):
    def __init__(self, request: Request, conf: _Conf, platform: LoopbackPlatform) -> None:
        super().__init__(request, conf, platform.url("/memberships"))
        self.platform = platform

    def get_member_data_page(self, page: int = 1, limit: int | None = None, **kwargs: t.Any) -> TPage:
        members = [
            {
                "user_id": person.user_id,
                "roles": person.roles,
                "name": person.name,
                "given_name": person.given_name,
                "family_name": person.family_name,
                "email": person.email,
                "status": self.platform.roster_status.get(person.user_id, "Active"),
            }
            for person in self.platform.roster
        ]
        return {"content": members, "has_next": False, "next": None}

    def get_context_by_id(self) -> Context:
        return Context(id="course-101", label="course-101", title="Virtualisation 101")


class LoopbackPlatform:
    """One LMS with one registration of the tool (client id, deployment id)."""

    def __init__(
        self,
        tool_base: str = "http://testserver",
        client_id: str = "tool-client-1",
        deployment_id: str = "dep-1",
        host: str = "127.0.0.1",
        html: bool = False,
    ) -> None:
        self.tool_base = tool_base
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.private_key, self.public_key = rsa_pem_pair()
        self.messages: dict[str, Message] = {}
        self.lineitems: dict[str, dict[str, t.Any]] = {}
        self.scores: list[dict[str, t.Any]] = []
        self.roster: list[Person] = []
        self.deep_link_items: list[dict[str, t.Any]] = []
        self.down = False  # the LMS is unreachable: every service call answers 503
        self.roster_status: dict[str, str] = {}  # user id -> NRPS status other than Active
        self.registrations: list[dict[str, t.Any]] = []  # dynamic registration requests received
        self.openid_issuer: str | None = None  # to publish a configuration whose issuer is not ours
        self.requests: list[str] = []
        self.messages_urls: dict[str, str] = {}
        self.tool_key_set: dict[str, t.Any] | None = None
        self._ids = itertools.count(1)
        self._server = make_server("127.0.0.1", 0, self._app, WSGIServer, _QuietHandler)
        self.base = f"http://{host}:{self._server.server_port}"
        self.html = html  # answer the authentication request with a self-posting form, as an LMS does
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- what staff paste into the tool's admin ------------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.base + path

    @property
    def issuer(self) -> str:
        return self.base

    def registration_fields(self) -> dict[str, str]:
        return {
            "issuer": self.issuer,
            "client_id": self.client_id,
            "auth_login_url": self.url("/auth"),
            "auth_token_url": self.url("/token"),
            "key_set_url": self.url("/jwks"),
        }

    def registration(self) -> Registration:
        tool = self.tool_base
        reg = (
            Registration()
            .set_iss(self.issuer)
            .set_client_id(self.client_id)
            .set_deployment_id(self.deployment_id)
            .set_launch_url(f"{tool}/lti/launch/")
            .set_deeplink_launch_url(f"{tool}/lti/launch/")
            .set_oidc_login_url(f"{tool}/lti/login/")
            .set_tool_key_set_url(f"{tool}/lti/jwks.json")
            .set_platform_public_key(self.public_key)
            .set_platform_private_key(self.private_key)
        )
        if self.tool_key_set is not None:
            reg.set_tool_key_set(self.tool_key_set)  # type: ignore[arg-type]
        return reg

    def conf(self) -> _Conf:
        return _Conf(registration=self.registration())

    # --- the LMS's own actions ---------------------------------------------------------------------------------
    def lineitem_add(self, data: dict[str, t.Any]) -> dict[str, t.Any]:
        item_id = str(next(self._ids))
        data["id"] = self.url(f"/lineitems/{item_id}")
        self.lineitems[item_id] = data
        return data

    def course_page_url(self, message: Message) -> str:
        """An LMS course page showing the activity in an iframe, as Moodle's "Embed" or Canvas's default does."""
        key = uuid.uuid4().hex
        self.messages_urls[key] = self.login_initiation_url(message)
        return self.url(f"/course/{key}")

    def login_initiation_url(self, message: Message) -> str:
        """The URL the LMS sends the browser to when someone clicks the link (third-party initiated login)."""
        hint = uuid.uuid4().hex
        self.messages[hint] = message

        login = _PlatformLogin(None, self.conf())
        login.set_lti_message_hint(hint=hint)
        if message.kind == "deep":
            login.set_deeplinking_launch_url()
        return login.prepare_preflight_url(message.person.user_id)

    def sign(self, claims: dict[str, t.Any], expiration: int | None = 300, private_key: str | None = None) -> str:
        """A token signed like this platform signs its launches (the tests alter claims to forge messages)."""
        reg = self.registration()
        if private_key is None:
            return reg.platform_encode_and_sign(dict(claims), expiration=expiration)
        kid = Registration.get_jwk(private_key)["kid"]
        return Registration.encode_and_sign(dict(claims), private_key, {"kid": kid}, expiration=expiration)

    # --- HTTP ---------------------------------------------------------------------------------------------------
    def _app(self, environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        path = environ.get("PATH_INFO", "")
        self.requests.append(f"{environ['REQUEST_METHOD']} {path}")
        request = _WsgiRequest((environ, body))
        try:
            status, payload, content_type = self._route(path, request)
        except Exception as error:  # noqa: BLE001 - a test server reports every failure as a 500 with its text
            status, payload, content_type = 500, {"error": repr(error)}, "application/json"
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        start_response(f"{status} X", [("Content-Type", content_type), ("Content-Length", str(len(data)))])
        return [data]

    def _route(self, path: str, request: _WsgiRequest) -> tuple[int, t.Any, str]:
        conf = self.conf()
        if path == "/jwks":
            return 200, conf.get_jwks(), "application/json"
        if path == "/auth":
            hint = request.get_data.get("lti_message_hint", "")
            message = self.messages.get(hint)
            if message is None or request.get_data.get("login_hint") != message.person.user_id:
                return 400, {"error": "unknown message or login hint"}, "application/json"
            data = _Launch(request, conf, self, message).lti_launch()
            if self.html:
                return 200, _autopost_page(data), "text/html; charset=utf-8"
            return 200, data, "application/json"
        if path.startswith("/course/"):
            return 200, _course_page(self.messages_urls[path.rsplit("/", 1)[1]]), "text/html; charset=utf-8"
        if path == "/.well-known/openid-configuration":
            return 200, self._openid_configuration(), "application/json"
        if path == "/register":
            return self._register(request)
        if self.down:
            return 503, {"error": "down for maintenance"}, "application/json"
        if path == "/token":
            return 200, conf.get_access_token(request.form_data), "application/json"
        if path == "/deep_link_return":
            self.deep_link_items = conf.validate_deeplinking_resp(request.form_data)
            for item in self.deep_link_items:
                if "lineItem" in item:
                    self.lineitem_add({**item["lineItem"], "label": item["lineItem"].get("label", item.get("title"))})
            return 200, {"saved": len(self.deep_link_items)}, "application/json"
        if path == "/memberships":
            return self._reply(_Nrps(request, conf, self).handle_resp(_Nrps(request, conf, self).handle_get_members))
        match = re.fullmatch(r"/lineitems(?:/(\d+))?(/scores)?", path)
        if match:
            ags = _Ags(request, conf, self)
            item_id, scores = match.groups()
            if scores:
                return self._reply(ags.handle_resp(ags.handle_update_score, line_item_id=item_id))
            if item_id:
                return self._reply(ags.handle_resp(ags.handle_get_lineitem, line_item_id=item_id))
            if request.method == "POST":
                return self._reply(ags.handle_resp(ags.handle_create_lineitem))
            return self._reply(ags.handle_resp(ags.handle_get_lineitems))
        return 404, {"error": "not found"}, "application/json"

    def _openid_configuration(self) -> dict[str, t.Any]:
        return {
            "issuer": self.openid_issuer or self.issuer,
            "authorization_endpoint": self.url("/auth"),
            "token_endpoint": self.url("/token"),
            "jwks_uri": self.url("/jwks"),
            "registration_endpoint": self.url("/register"),
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": "loopback",
                "version": "1.0",
            },
        }

    def _register(self, request: _WsgiRequest) -> tuple[int, t.Any, str]:
        """LTI-DR 1.0 registration endpoint: keep the tool's configuration, answer with its client id."""
        body = request.json or {}
        self.registrations.append({"authorization": request.headers.get("Authorization"), "body": body})
        tool_config = dict(body.get(TOOL_CONFIGURATION) or {})
        tool_config["deployment_id"] = self.deployment_id
        answer = {**body, "client_id": self.client_id, TOOL_CONFIGURATION: tool_config}
        return 200, answer, "application/json"

    @staticmethod
    def _reply(response: Response) -> tuple[int, t.Any, str]:
        result = response.result
        if isinstance(result, dict) and "content" in result and "has_next" in result:
            result = result["content"]  # a page of line items: the container is the list
        return response.code, result if result is not None else {"message": response.message}, response.media_type


class _PlatformLogin(OIDCLoginAbstract):
    """lti1p3platform's OIDC login initiation; the message hint names the message the platform keeps for later."""

    def set_lti_message_hint(self, **kwargs: t.Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


HEAD = '<meta charset="utf-8"><link rel="icon" href="data:,">'  # no /favicon.ico request to the platform


def _course_page(login_url: str) -> bytes:
    frame = html.escape(login_url)
    return (
        f'<!doctype html><html lang="en"><head>{HEAD}<title>Virtualisation 101</title></head>'
        f'<body><main><h1>Virtualisation 101</h1><iframe title="Hyper-V Lab activity" src="{frame}" '
        'width="1000" height="700"></iframe></main></body></html>'
    ).encode()


def _autopost_page(data: dict[str, t.Any]) -> bytes:
    fields = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(str(data[name]))}">' for name in ("id_token", "state")
    )
    return (
        f'<!doctype html><html lang="en"><head>{HEAD}<title>Launching</title></head><body><main>'
        f'<form id="launch" method="post" action="{html.escape(data["launch_url"])}">{fields}'
        '<button type="submit">Continue</button></form></main>'
        "<script>document.getElementById('launch').submit();</script></body></html>"
    ).encode()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002 - the base class's name
        pass


def wait_for(predicate: t.Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
