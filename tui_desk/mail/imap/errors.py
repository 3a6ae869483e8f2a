"""IMAP errors: one line each, meant for the user."""

from __future__ import annotations

import os
import ssl


class ImapError(Exception):
    """Any IMAP failure; str() is one line meant for the user."""


class ImapConnectError(ImapError):
    """The server could not be reached or refused the session."""


class ImapTlsError(ImapConnectError):
    """TLS could not be set up (certificate not trusted, handshake failed, no STARTTLS)."""


class ImapCertificateError(ImapTlsError):
    """The server's certificate is not trusted (or the CA file cannot be read): trying again
    cannot fix it, the config (ca_file) or the server must change."""


class ImapAuthError(ImapError):
    """LOGIN was refused."""


class ImapCommandError(ImapError):
    """The server answered NO or BAD."""

    def __init__(self, message: str, result: str = "NO", server_text: str = "") -> None:
        super().__init__(message)
        self.result = result
        self.server_text = server_text


class ImapConnectionLost(ImapError):
    """The connection is gone (dropped, closed by the server, timed out); reconnect."""


class ImapTimeout(ImapConnectionLost):
    """No data for too long; the connection was closed."""


class ImapProtocolError(ImapConnectionLost):
    """The server sent something unparseable; the connection was closed."""


def _fresh(error: BaseException) -> BaseException:
    """A new instance of a shared error, so each raise gets its own traceback."""
    return type(error)(str(error)) if isinstance(error, ImapError) else error


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    if isinstance(exc, OSError) and (exc.errno or exc.strerror):
        # asyncio's strerror is "Connect call failed (addr)"; the errno says why.
        text = os.strerror(exc.errno) if exc.errno else str(exc.strerror)
        return text[:1].lower() + text[1:]
    return str(exc) or type(exc).__name__
