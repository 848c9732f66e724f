"""Performing one model HTTP request with the standard library (``http.client``), for the
default :meth:`CopilotRequestHandler.send_request <copilot_sync.CopilotRequestHandler.send_request>`.

The response body is read as it arrives (``read1``: whatever the socket has, up to
:data:`READ_SIZE` bytes), so a server-sent-events stream reaches the CLI event by event.
Redirects are not followed (the CLI gets the 3xx answer). The proxy of the process
environment (``https_proxy``/``http_proxy``/``no_proxy``, as :mod:`urllib.request` reads
them) is used: an HTTPS request goes through a ``CONNECT`` tunnel. TLS uses the default
context (the system's certificates, ``SSL_CERT_FILE``), plus the certificates of
``NODE_EXTRA_CA_CERTS`` when that file exists, as the CLI itself would.

Nothing here knows about the CLI, sessions or the wire: it takes a method, URL, headers
and body, and returns the status, headers and an iterator over the body.
"""

from __future__ import annotations

import base64
import http.client
import os
import socket
import ssl
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NamedTuple

__all__ = [
    "HOP_BY_HOP_HEADERS",
    "READ_SIZE",
    "ForwardedResponse",
    "default_ssl_context",
    "forward",
]

#: Most bytes one read of the response body returns (less when less has arrived).
READ_SIZE = 64 * 1024

#: Headers that describe one hop's connection, not the message: never forwarded in either
#: direction (``http.client`` computes ``Host`` and ``Content-Length`` itself, and undoes
#: chunked transfer encoding).
HOP_BY_HOP_HEADERS = frozenset(
    {
        "host",
        "connection",
        "content-length",
        "transfer-encoding",
        "keep-alive",
        "upgrade",
        "proxy-connection",
        "proxy-authorization",
        "te",
        "trailer",
    }
)
_RESPONSE_DROPPED = HOP_BY_HOP_HEADERS - {"content-length"}
_NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "TRACE"})


class ForwardedResponse(NamedTuple):
    """What the server answered: the body is read lazily from ``chunks``, and closing that
    generator (or exhausting it) closes the connection."""

    status: int
    reason: str
    headers: dict[str, list[str]]
    chunks: Iterator[bytes]


def default_ssl_context() -> ssl.SSLContext:
    """The default TLS context, trusting ``NODE_EXTRA_CA_CERTS`` too when that file exists."""
    context = ssl.create_default_context()
    extra = os.environ.get("NODE_EXTRA_CA_CERTS")
    if extra and os.path.isfile(extra):
        context.load_verify_locations(cafile=extra)
    return context


def forward(
    method: str,
    url: str,
    headers: Mapping[str, Sequence[str]],
    body: bytes,
    *,
    timeout: float | None,
    ssl_context: ssl.SSLContext | None,
    on_abort: Callable[[Callable[[], None]], None],
) -> ForwardedResponse:
    """Send the request and return once the response head arrived.

    ``timeout`` bounds connecting and each read (an idle limit: a stream that keeps sending
    may last longer); ``None`` waits without limit. ``on_abort`` is given a callable that
    tears the connection down from any thread (a blocked read then fails at once).
    Raises ``ValueError`` for a URL that is not ``http``/``https``, ``OSError`` (including
    ``TimeoutError``) and :class:`http.client.HTTPException` for network failures.
    """
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in ("http", "https") or not host:
        raise ValueError(f"only http and https URLs can be forwarded, not {url[:80]!r}")
    port = parts.port or (443 if scheme == "https" else 80)
    target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    proxy = _proxy_for(scheme, host)
    context = (ssl_context or default_ssl_context()) if scheme == "https" else None
    extra_headers: list[tuple[str, str]] = []
    conn: http.client.HTTPConnection
    if proxy is None:
        conn = _connection(host, port, timeout, context)
    else:
        proxy_host, proxy_port, authorization = proxy
        if context is not None:  # https through a CONNECT tunnel
            conn = http.client.HTTPSConnection(
                proxy_host, proxy_port, timeout=timeout, context=context
            )
            tunnel = {"Proxy-Authorization": authorization} if authorization else None
            conn.set_tunnel(host, port, headers=tunnel)
        else:  # plain http: the proxy gets the absolute URL
            conn = http.client.HTTPConnection(proxy_host, proxy_port, timeout=timeout)
            target = url
            if authorization:
                extra_headers.append(("Proxy-Authorization", authorization))
    on_abort(lambda: _abort(conn))
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, values in headers.items():
            if name.lower() in HOP_BY_HOP_HEADERS:
                continue
            for value in values:
                conn.putheader(name, value)
        for name, value in extra_headers:
            conn.putheader(name, value)
        if body or method.upper() not in _NO_BODY_METHODS:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        response = conn.getresponse()
    except BaseException:
        conn.close()
        raise
    return ForwardedResponse(
        status=response.status,
        reason=response.reason or "",
        headers=_response_headers(response.getheaders()),
        chunks=_chunks(conn, response),
    )


def _connection(
    host: str, port: int, timeout: float | None, context: ssl.SSLContext | None
) -> http.client.HTTPConnection:
    if context is not None:
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    return http.client.HTTPConnection(host, port, timeout=timeout)


def _chunks(
    conn: http.client.HTTPConnection, response: http.client.HTTPResponse
) -> Iterator[bytes]:
    try:
        while True:
            data = response.read1(READ_SIZE)
            if not data:
                return
            yield data
    finally:
        response.close()
        conn.close()


def _response_headers(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in pairs:
        lowered = name.lower()
        if lowered not in _RESPONSE_DROPPED:
            headers.setdefault(lowered, []).append(value)
    return headers


def _abort(conn: http.client.HTTPConnection) -> None:
    """Unblock a read in another thread: shut the socket down (closing alone may not)."""
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # not connected (yet, or any more)


def _proxy_for(scheme: str, host: str) -> tuple[str, int, str | None] | None:
    """``(host, port, Proxy-Authorization or None)`` of the environment's proxy for
    ``scheme`` requests to ``host``, or None (no proxy, or ``no_proxy`` names the host)."""
    proxy = urllib.request.getproxies().get(scheme)
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    if "://" not in proxy:
        proxy = "http://" + proxy
    parts = urllib.parse.urlsplit(proxy)
    if not parts.hostname:
        return None
    authorization = None
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        authorization = f"Basic {token}"
    default_port = 443 if parts.scheme == "https" else 80
    return parts.hostname, parts.port or default_port, authorization
