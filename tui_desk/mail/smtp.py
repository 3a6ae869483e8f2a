"""Sending through aiosmtplib: implicit TLS, STARTTLS or (loopback only) plain, always verified.

Errors are sorted into the two things the outbox needs to know: try again later (network,
4xx) or do not (5xx, with the server's text for the agent).
"""

from __future__ import annotations

import ipaddress
import ssl

import aiosmtplib

from tui_desk.config import ServerConfig


class SendError(Exception):
    """One line for the agent."""


class TemporarySendError(SendError):
    pass


class PermanentSendError(SendError):
    pass


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _classify(e: Exception, where: str) -> SendError:
    if isinstance(e, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in e.recipients]
        text = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in e.recipients)
        cls = TemporarySendError if all(400 <= c < 500 for c in codes) else PermanentSendError
        return cls(f"{where} refused the recipients: {text}")
    if isinstance(e, aiosmtplib.SMTPAuthenticationError):
        return PermanentSendError(f"{where}: login failed ({e.code} {e.message})")
    if isinstance(e, aiosmtplib.SMTPResponseException):
        cls = TemporarySendError if 400 <= e.code < 500 else PermanentSendError
        return cls(f"{where} answered {e.code} {e.message}")
    if isinstance(e, ssl.SSLCertVerificationError):
        return PermanentSendError(f"{where}: TLS certificate not trusted ({e.verify_message}); set ca_file for a private CA")
    return TemporarySendError(f"{where}: {type(e).__name__}: {e}")


async def send(server: ServerConfig, password: str | None, mail_from: str, recipients: list[str],
               data: bytes, timeout: float = 60) -> None:
    where = f"{server.host}:{server.port}"
    if server.security == "none" and not _loopback(server.host):
        raise PermanentSendError(f"{where}: security \"none\" is only allowed on loopback")
    context = ssl.create_default_context(cafile=str(server.ca_file) if server.ca_file else None)
    client = aiosmtplib.SMTP(
        hostname=server.host, port=server.port, timeout=timeout, use_tls=server.security == "tls",
        start_tls=True if server.security == "starttls" else (False if server.security == "none" else None),
        tls_context=context, validate_certs=True)
    try:
        await client.connect()
        if server.username and password is not None:
            await client.login(server.username, password)
        await client.sendmail(mail_from, recipients, data)
    except SendError:
        raise
    except (aiosmtplib.SMTPException, OSError, ssl.SSLError, TimeoutError) as e:
        raise _classify(e, where) from None
    finally:
        try:
            await client.quit()
        except Exception:  # the connection may already be gone; nothing to tell the agent
            client.close()
