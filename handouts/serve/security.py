"""The web page's guard, in front of every request: Host, size, access token, and response headers.

An ASGI middleware (no framework needed to read it): a request whose Host header is not one of the
allowed hosts is refused (a page on 127.0.0.1 is otherwise open to DNS rebinding); a body over the
limit is refused before it is read whole; with an access token, a request without the sign-in
cookie gets 401 (except the sign-in page, the page's own CSS, JS and fonts, and /health; and, with
the open_infobutton setting, GET /infobutton and the patient-free PDFs of GET /pdf); every
response carries a Content-Security-Policy with frame-ancestors, X-Content-Type-Options and the
rest. CSRF tokens and the Origin check of POSTs are here too.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ACCESS_COOKIE = "handouts_access"
CSRF_COOKIE = "handouts_csrf"
#: Paths open without the access token: signing in, and what the sign-in page itself loads.
OPEN_PREFIXES = ("/sign-in", "/static/", "/fonts/", "/health")
#: Paths open without the access token with Settings.open_infobutton, GET only: an EHR's link cannot
#: send the token, and these answer with the catalog and patient-free PDFs, never patient data.
INFOBUTTON_PATHS = ("/infobutton", "/pdf")
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True)
class Settings:
    """How the server runs: where it listens, who may reach it, and how it is embedded."""

    host: str = "127.0.0.1"
    port: int = 8765
    allowed_hosts: tuple[str, ...] = ()
    public_url: str | None = None
    token: str | None = None
    frame_ancestors: tuple[str, ...] = ()
    workers: int = 2
    max_body: int = 64 * 1024
    reviewed_only: bool | None = None
    #: The brands the page offers (--brand: names, "default" for handouts.yaml's clinic, "all"); the
    #: first is the one a request without a brand gets.
    brands: tuple[str, ...] = ("default",)
    debug: bool = False
    #: Answer /infobutton and GET /pdf without the access token (for EHR links, which cannot send it).
    open_infobutton: bool = False
    #: A secret of this run: signs the access cookie, so the cookie never holds the token itself.
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def hosts(self) -> set[str]:
        """Return the host names (without port) a request's Host header may carry."""
        names = {h.lower() for h in self.allowed_hosts}
        if not self.allowed_hosts:
            names.update(LOOPBACK_NAMES)
            names.add(self.host.lower())
        if self.public_url:
            names.add((urlsplit(self.public_url).hostname or "").lower())
        return {n.strip("[]") for n in names if n}

    def origins(self) -> set[str]:
        """Return the origins POSTs may come from besides the request's own host: the public URL's."""
        if not self.public_url:
            return set()
        parts = urlsplit(self.public_url)
        return {f"{parts.scheme}://{parts.netloc}".lower()}

    def access_value(self) -> str:
        """Return what the access cookie holds when signed in: a digest of the token, never the token."""
        assert self.token is not None
        return hmac.new(self.secret, self.token.encode(), hashlib.sha256).hexdigest()

    @property
    def secure_cookies(self) -> bool:
        return bool(self.public_url and self.public_url.startswith("https://"))


def is_loopback(host: str) -> bool:
    """Return whether host names only this machine."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """Return the host part of a Host header (without the port), lower case."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def cookies(scope: Scope) -> dict[str, str]:
    """Return the request's cookies."""
    from http.cookies import SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie is no cookie
                continue
    return {key: morsel.value for key, morsel in jar.items()}


def csrf_ok(scope: Scope, submitted: str) -> bool:
    """Return whether a form's CSRF token matches the request's CSRF cookie (double submit)."""
    expected = cookies(scope).get(CSRF_COOKIE, "")
    return bool(expected) and len(submitted) < 200 and hmac.compare_digest(expected, submitted)


def origin_ok(scope: Scope, settings: Settings) -> bool:
    """Return whether a POST comes from this page: its Origin (or Referer) is the request's own host."""
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
    origin = headers.get("origin") or ""
    if not origin or origin == "null":
        referer = headers.get("referer") or ""
        if not referer:
            return False
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    parts = urlsplit(origin.lower())
    if parts.scheme not in ("http", "https"):
        return False
    if f"{parts.scheme}://{parts.netloc}" in settings.origins():
        return True
    return bool(parts.netloc == headers.get("host", "").lower())


def csp(settings: Settings, *, pdf: bool = False) -> str:
    """Return the Content-Security-Policy: the page's own files only; framed only where allowed."""
    ancestors = " ".join(settings.frame_ancestors) if settings.frame_ancestors else "'none'"
    if pdf:  # the browser's PDF viewer shows it; nothing in a PDF may load anything
        return f"default-src 'none'; object-src 'self'; frame-ancestors {ancestors}"
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
            f"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}")


class Guard:
    """The ASGI middleware that every request passes first."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.hosts = settings.hosts()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        send = self._with_headers(send)
        if host_name(headers.get("host", "")) not in self.hosts:
            await _plain(send, 400, "This address is not one this server answers to (Host header not allowed).")
            return
        length = headers.get("content-length", "")
        if length and (not length.isdigit() or int(length) > self.settings.max_body):
            await _plain(send, 413, f"The request is larger than {self.settings.max_body} bytes.")
            return
        path = scope.get("path", "")
        if self.settings.token and not path.startswith(OPEN_PREFIXES) and not self._open_infobutton(scope):
            value = cookies(scope).get(ACCESS_COOKIE, "")
            if not hmac.compare_digest(value, self.settings.access_value()):
                await _plain(send, 401, "Sign in first: open /sign-in and enter the access token.")
                return
        await self.app(scope, self._bounded(receive, send), send)

    def _open_infobutton(self, scope: Scope) -> bool:
        """Return whether a request is one the open_infobutton setting lets through without the token."""
        return (self.settings.open_infobutton and scope.get("method") in ("GET", "HEAD")
                and scope.get("path") in INFOBUTTON_PATHS)

    def _bounded(self, receive: Receive, send: Send) -> Receive:
        """Refuse a body (chunked or lying about its length) once it passes the limit."""
        seen = 0
        limit = self.settings.max_body

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge()
            return message

        return bounded

    def _with_headers(self, send: Send) -> Send:
        settings = self.settings

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                names = {k.lower() for k, _ in headers}
                pdf = any(k.lower() == b"content-type" and v.startswith(b"application/pdf") for k, v in headers)
                extra = [
                    (b"content-security-policy", csp(settings, pdf=pdf).encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"cross-origin-resource-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
                ]
                if not settings.frame_ancestors:
                    extra.append((b"x-frame-options", b"DENY"))
                if b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-cache"))
                message = {**message, "headers": headers + extra}
            await send(message)

        return sending


class BodyTooLarge(Exception):
    """A request body went past the limit while it was read."""


async def _plain(send: Send, status: int, text: str) -> None:
    link = '<p><a href="/sign-in">Sign in</a></p>' if status == 401 else ""
    body = (f"<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>{status}</title>"
            f"<link rel=\"stylesheet\" href=\"/static/app.css\"><main class=\"page\"><h1>{status}</h1>"
            f"<p>{text}</p>{link}</main>").encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/html; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})
