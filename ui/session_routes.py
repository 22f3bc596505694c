"""The app server's one route of its own: the session cookie, set HttpOnly.

Streamlit's script cannot set a cookie, and one set by the page's JavaScript could be
read by any script in the page. So the page posts a hand-off token (signed, 60 s, once)
here and this route answers with ``Set-Cookie: HttpOnly; SameSite=Strict`` (``Secure``
when the browser came over https); ``DELETE`` clears it. No database here: the token's
signature is the whole check, and the session row is checked on every use.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from functools import cache
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from claimdesk.access import sessions
from claimdesk.settings import Settings

PATH = "/_claimdesk/session"
_used: dict[str, float] = {}  # hand-off tokens already exchanged (this process), by expiry
_used_lock = threading.Lock()


@cache
def _key() -> bytes:
    return sessions.session_key(Settings())  # the app's CLAIMDESK_* environment


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _https(request: Request) -> bool:
    """Over https: directly, or through a TLS proxy on this machine (the only one believed)."""
    if request.url.scheme == "https":
        return True
    proto = request.headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
    return proto == "https" and _loopback(request.client.host if request.client else None)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True  # same-origin fetches of some browsers omit it; the token still decides
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _once(handoff: str) -> bool:
    now = time.time()
    with _used_lock:
        for token, expires in list(_used.items()):
            if expires < now:
                del _used[token]
        if handoff in _used:
            return False
        _used[handoff] = now + sessions.HANDOFF_SECONDS
    return True


def _refused(why: str, status: int) -> JSONResponse:
    return JSONResponse({"error": why}, status_code=status)


async def session_cookie(request: Request) -> Response:
    if not _same_origin(request):
        return _refused("cross-origin request", 403)
    if request.method == "DELETE":
        # Only the ended session's cookie: a sign-in that raced ahead keeps its new one.
        try:
            ended = str((await request.json())["ended"])
        except (ValueError, KeyError, TypeError):
            return _refused("send {'ended': digest}", 400)
        held = sessions.cookie_session_id(request.cookies.get(sessions.COOKIE_NAME, ""))
        if held is None or sessions.session_id_digest(held) != ended:
            return JSONResponse({"cleared": False})
        response = JSONResponse({"cleared": True})
        response.delete_cookie(
            sessions.COOKIE_NAME, path="/", httponly=True, samesite="strict", secure=_https(request)
        )
        return response
    try:
        body = await request.json()
        handoff = str(body["handoff"])
    except (ValueError, KeyError, TypeError):
        return _refused("send {'handoff': token}", 400)
    try:
        value, max_age = sessions.cookie_from_handoff(_key(), handoff)
    except ValueError as exc:
        return _refused(str(exc), 403)
    if not _once(handoff):
        return _refused("the hand-off token was used already", 403)
    response = JSONResponse({"set": True})
    response.set_cookie(
        sessions.COOKIE_NAME,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_https(request),
    )
    return response


def path_under(base_url_path: str) -> str:
    """The route's address below Streamlit's ``server.baseUrlPath`` (what the page fetches)."""
    base = base_url_path.strip("/")
    return f"/{base}{PATH}" if base else PATH


def routes() -> list[Route]:
    # Streamlit mounts its own routes under server.baseUrlPath and ours as given: answer
    # at the root and under any base path, so a proxy forwarding only the base finds it.
    return [
        Route(PATH, session_cookie, methods=["POST", "DELETE"]),
        Route("/{base:path}" + PATH, session_cookie, methods=["POST", "DELETE"]),
    ]
