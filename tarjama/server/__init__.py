"""HTTP layers shared by the page and, later, the HTTP API."""

from tarjama.server.security import (
    SESSION_COOKIE,
    FileGuard,
    SecurityMiddleware,
    SecurityPolicy,
    content_security_policy,
    inline_script_hashes,
    normalize_origin,
    session_of,
)

__all__ = [
    "SESSION_COOKIE",
    "FileGuard",
    "SecurityMiddleware",
    "SecurityPolicy",
    "content_security_policy",
    "inline_script_hashes",
    "normalize_origin",
    "session_of",
]
