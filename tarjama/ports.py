"""Whether a server can listen where it was asked to: said before any model loads (a minute's work)."""

from __future__ import annotations


def port_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be served on, or None: checked before any model loads (a minute's work)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        return f"--host {host}: not an address of this machine ({err.strerror})"
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is no conflict
        try:
            sock.bind(address)
        except OSError as err:
            if err.errno == 98:  # EADDRINUSE
                return f"port {port} on {host} is already in use (another tarjama serve?); choose another with --port"
            return f"cannot listen on {host}:{port}: {err.strerror}; choose another --host or --port"
    return None
