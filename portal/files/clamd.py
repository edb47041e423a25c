"""A clamd client for one thing: INSTREAM (the file's bytes in chunks, one verdict back).

``CLAMD_ADDRESS`` is ``host:port`` (TCP, e.g. ``127.0.0.1:3310``) or the path of clamd's unix
socket (``/run/clamav/clamd.ctl``). Anything but a clear verdict (unreachable, timeout, an
``ERROR`` such as the stream size limit) raises ``ScanUnavailable``: the caller keeps the file
pending and tries again later, it never accepts a file unscanned.
"""

from __future__ import annotations

import socket
import struct

CHUNK = 64 * 1024


class ScanUnavailable(RuntimeError):
    """clamd could not give a verdict; try again later."""


def _connect(address: str, timeout: float) -> socket.socket:
    if address.startswith("/") or address.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(address.removeprefix("unix:"))
        return sock
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ScanUnavailable(f"CLAMD_ADDRESS must be host:port or a socket path, not {address!r}")
    return socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)


def scan(data: bytes, address: str, timeout: float = 30.0) -> str | None:
    """None when clamd finds nothing; the signature's name when it finds something."""
    try:
        with _connect(address, timeout) as sock:
            sock.sendall(b"zINSTREAM\0")
            for start in range(0, len(data), CHUNK):
                chunk = data[start:start + CHUNK]
                sock.sendall(struct.pack("!I", len(chunk)) + chunk)
            sock.sendall(struct.pack("!I", 0))
            reply = b""
            while not reply.endswith(b"\0") and len(reply) < 4096:
                part = sock.recv(4096)
                if not part:
                    break
                reply += part
    except OSError as exc:  # refused, unreachable, timed out, reset
        raise ScanUnavailable(str(exc) or type(exc).__name__) from exc
    verdict = reply.rstrip(b"\0\r\n").decode("utf-8", "replace").strip()
    body = verdict.split(":", 1)[1].strip() if ":" in verdict else verdict
    if body == "OK":
        return None
    if body.endswith(" FOUND"):
        return body.removesuffix(" FOUND").strip() or "signature inconnue"
    raise ScanUnavailable(verdict or "no answer from clamd")
