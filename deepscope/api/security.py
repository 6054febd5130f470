"""Host-header and Origin checks (DNS rebinding, cross-site WebSockets) and page headers.

A request is served only if its Host header names this server: loopback names,
the LAN addresses in LAN mode, or an operator's ``allowed_hosts``. A WebSocket
is accepted only if its Origin is exactly the page's own origin (scheme://Host)
or exactly one of ``allow_origins`` — never a prefix or suffix match.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..settings import Settings

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def content_security_policy(frame_ancestors: Iterable[str] = ()) -> str:
    """The pages' policy; ``frame_ancestors``: who may frame them (nobody by default)."""
    ancestors = " ".join(frame_ancestors) or "'none'"
    return CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # plotly sets inline styles on its SVG
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def split_host(host_header: str) -> str:
    """The host name of a Host header, without port or IPv6 brackets, lower-cased."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host


def origin_host(origin: str) -> str:
    return (urlsplit(origin).hostname or "").lower()


class HostPolicy:
    """Which Host headers and Origins this server accepts."""

    def __init__(self, settings: Settings) -> None:
        hosts = set(LOOPBACK_HOSTS)
        hosts.update(h.lower() for h in settings.allowed_hosts)
        if settings.host not in ("0.0.0.0", "::", ""):
            hosts.add(split_host(settings.host))
        hosts.update(origin_host(o) for o in settings.lan_origins)
        self.hosts = frozenset(hosts)
        self.origins = frozenset(
            o.rstrip("/") for o in [*settings.allow_origins, *settings.lan_origins]
        )

    def host_ok(self, host_header: str | None) -> bool:
        return bool(host_header) and split_host(host_header or "") in self.hosts

    def origin_ok(self, origin: str | None, host_header: str | None) -> bool:
        if not origin or origin == "null":
            return False
        origin = origin.rstrip("/")
        if origin in self.origins:
            return True
        if not self.host_ok(host_header):
            return False
        return origin in (f"http://{host_header}", f"https://{host_header}")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class SecurityMiddleware:
    """Rejects foreign Host headers (400 / WebSocket 403) and adds security headers."""

    def __init__(
        self, app: ASGIApp, policy: HostPolicy, headers: list[tuple[bytes, bytes]]
    ) -> None:
        self.app = app
        self.policy = policy
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if not self.policy.host_ok(_header(scope, b"host")):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": "host not allowed"})
                return
            body = b'{"error":"host not allowed"}'
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + self.headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI, settings: Settings) -> None:
    policy = HostPolicy(settings)
    app.state.host_policy = policy
    headers = SECURITY_HEADERS
    if settings.frame_ancestors:  # (X-Frame-Options cannot name them; CSP does)
        policy_header = content_security_policy(settings.frame_ancestors).encode()
        headers = [(b"content-security-policy", policy_header)] + [
            h
            for h in SECURITY_HEADERS
            if h[0] not in (b"content-security-policy", b"x-frame-options")
        ]
    app.add_middleware(SecurityMiddleware, policy=policy, headers=headers)
