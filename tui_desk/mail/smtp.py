"""Sending through aiosmtplib: implicit TLS, STARTTLS or (loopback only) plain, always verified.

Errors are sorted into the two things the outbox needs to know: try again later (network,
4xx) or do not (5xx, with the server's text for the agent).
"""

from __future__ import annotations

import base64
import ssl

import aiosmtplib

from tui_desk.config import ServerConfig, is_loopback
from tui_desk.mail.compose import idna_address
from tui_desk.mail.imap import sasl_oauth2
from tui_desk.secrets import forget_access_token


class SendError(Exception):
    """One line for the agent."""


class TemporarySendError(SendError):
    pass


class PermanentSendError(SendError):
    pass


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


async def _oauth2_login(client: aiosmtplib.SMTP, server: ServerConfig, token: str, address: str, where: str) -> None:
    """AUTH XOAUTH2 or OAUTHBEARER (RFC 7628) with the access token as the initial response."""
    mechanism = server.auth.upper()
    user = server.username or address  # these servers name the account by its address
    if mechanism.lower() not in client.server_auth_methods:
        offered = " ".join(m.upper() for m in client.server_auth_methods) or "none"
        raise PermanentSendError(f"{where}: login failed: the server does not offer {mechanism} (it offers: {offered})")
    if mechanism == "XOAUTH2":
        await client.auth_xoauth2(user, token)
        return
    blob = base64.b64encode(sasl_oauth2(mechanism, user, token))
    response = await client.execute_command(b"AUTH", b"OAUTHBEARER", blob)
    if response.code == 334:  # an error as a challenge: RFC 7628 wants a dummy ^A to end it
        response = await client.execute_command(b"AQ==")
    if response.code != 235:
        raise aiosmtplib.SMTPAuthenticationError(response.code, response.message)


def envelope_address(addr: str, smtputf8: bool) -> str:
    """The address for MAIL FROM / RCPT TO: ASCII as it is, a non-ASCII domain as IDNA, a
    non-ASCII local part only to a server that offers SMTPUTF8."""
    try:
        ascii_domain = idna_address(addr)
    except UnicodeError:
        raise PermanentSendError(f"{addr}: the domain is not a valid international name") from None
    if ascii_domain.isascii() or smtputf8:
        return ascii_domain
    raise PermanentSendError(f"the server does not accept international addresses (SMTPUTF8): {addr}")


async def send(server: ServerConfig, password: str | None, mail_from: str, recipients: list[str],
               data: bytes, timeout: float = 60) -> None:
    """Raises SendError for everything known not to have sent the mail (and for a failed DATA,
    as before); anything else that escapes came while the server took the message."""
    where = f"{server.host}:{server.port}"
    if server.security == "none" and not is_loopback(server.host):
        raise PermanentSendError(f"{where}: security \"none\" is only allowed on loopback")
    context = ssl.create_default_context(cafile=str(server.ca_file) if server.ca_file else None)
    # STARTTLS is asked for below, not by connect(): a server without it is a clear, permanent
    # error rather than a generic one retried forever.
    client = aiosmtplib.SMTP(
        hostname=server.host, port=server.port, timeout=timeout, use_tls=server.security == "tls",
        start_tls=False, tls_context=context, validate_certs=True)
    envelope_ready = False
    try:
        await client.connect()
        try:
            await client.ehlo()
        except aiosmtplib.SMTPHeloError:  # an old server: as aiosmtplib itself would
            await client.helo()
        if server.security == "starttls":
            if not client.supports_extension("starttls"):
                raise PermanentSendError(f"{where} does not offer STARTTLS, which security = \"starttls\" "
                                         f"requires (for implicit TLS, usually port 465, use \"tls\")")
            await client.starttls()
            await client.ehlo()  # what the server offers is asked again inside TLS
        if server.auth != "password":
            try:
                await _oauth2_login(client, server, password or "", mail_from, where)
            except aiosmtplib.SMTPAuthenticationError:
                forget_access_token(server)
                raise
        elif server.username and password is not None:
            await client.login(server.username, password)
        smtputf8 = client.supports_extension("smtputf8")
        sender = envelope_address(mail_from, smtputf8)
        rcpts = [envelope_address(r, smtputf8) for r in recipients]
        options = ["SMTPUTF8"] if not all(a.isascii() for a in (sender, *rcpts)) else []
        envelope_ready = True
        await client.sendmail(sender, rcpts, data, mail_options=options)
    except SendError:
        raise
    except (aiosmtplib.SMTPException, OSError, ssl.SSLError, TimeoutError) as e:
        raise _classify(e, where) from None
    except Exception as e:
        if envelope_ready:
            raise  # came while the server was taking it: the outbox's crash recovery decides
        # before MAIL FROM nothing can have been sent: one line, never "maybe sent"
        raise PermanentSendError(f"{where}: cannot send: {type(e).__name__}: {e}") from None
    finally:
        try:
            await client.quit()
        except Exception:  # the connection may already be gone; nothing to tell the agent
            client.close()
