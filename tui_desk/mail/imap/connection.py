"""One IMAP connection's lifetime: TCP, implicit TLS or STARTTLS, the greeting, close and LOGOUT,
and the plumbing every command goes through: one command at a time (an asyncio lock; an open
IDLE or FETCH stream must end first), a timeout on each, and failures as one-line `ImapError`s.
The commands themselves are in session.py; aioimaplib is reached only through adapter.py."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import EllipsisType
from typing import Any, Self

from tui_desk.config import Security
from tui_desk.mail.imap.adapter import LOGOUT, Abort, CommandTimeout, Response, _Protocol, _UnitCommand
from tui_desk.mail.imap.errors import (ImapCertificateError, ImapCommandError, ImapConnectError, ImapConnectionLost,
                                       ImapError, ImapTimeout, ImapTlsError, _describe, _fresh)
from tui_desk.mail.imap.responses import _text
from tui_desk.mail.imap.wire import _Wire


def _set_keepalive(transport: asyncio.BaseTransport) -> None:
    """TCP keepalive notices a silently dead peer during a long IDLE (about 2 minutes)."""
    sock = transport.get_extra_info("socket")
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 15), ("TCP_KEEPCNT", 4)):
            if hasattr(socket, name):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
    except OSError:
        pass


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Connection:
    """The connection half of `ImapConnection` (session.py, which documents the arguments):
    connect, TLS, close/LOGOUT, capabilities, and the plumbing its commands go through."""

    def __init__(self, host: str, port: int, *, security: Security = "tls",
                 ca_file: str | Path | None = None, timeout: float = 30.0,
                 source_address: str | None = None) -> None:
        if security not in ("tls", "starttls", "none"):
            raise ValueError(f'security must be "tls", "starttls" or "none", not {security!r}')
        if security == "none" and not _is_loopback(host):
            raise ValueError(f'security "none" is only allowed for loopback hosts, not {host!r}')
        self.host, self.port, self.security, self.timeout = host, port, security, timeout
        self.ca_file = Path(ca_file) if ca_file is not None else None
        self.source_address = source_address
        self.user: str | None = None
        self.enabled: frozenset[str] = frozenset()
        self.selected: str | None = None
        self._proto: _Protocol | None = None
        self._lock = asyncio.Lock()
        self._busy: str | None = None  # an IDLE or FETCH stream holds the connection

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}"

    def __repr__(self) -> str:
        who = f"{self.user}@" if self.user else ""
        state = self._proto.state if self._proto else "new"
        if self._proto is not None and self._proto.lost is not None:
            state = "closed"
        return f"<ImapConnection {who}{self.label} {self.security} {state}>"

    async def __aenter__(self) -> Self:
        if self._proto is None:
            await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.logout()

    # -- connection ------------------------------------------------------------------------------------
    def _ssl_context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            raise ImapCertificateError(f"cannot load CA file {self.ca_file}: {_describe(exc)}") from None

    def _tls_error(self, exc: BaseException) -> ImapTlsError:
        if isinstance(exc, ssl.SSLCertVerificationError):
            hint = f" by {self.ca_file}" if self.ca_file else " (set ca_file for a private CA)"
            return ImapCertificateError(f"TLS certificate of {self.label} is not trusted{hint}: "
                                f"{exc.verify_message}")
        return ImapTlsError(f"TLS handshake with {self.label} failed: {_describe(exc)}")

    async def connect(self) -> None:
        if self._proto is not None and self._proto.lost is None:
            raise ImapError(f"already connected to {self.label}")
        loop = asyncio.get_running_loop()
        protocol = _Protocol(loop, self.label)
        context = self._ssl_context() if self.security != "none" else None
        try:  # plain TCP first; TLS comes from start_tls, which cleans up after a failed handshake
            transport, _ = await asyncio.wait_for(loop.create_connection(
                lambda: protocol, self.host, self.port,
                local_addr=(self.source_address, 0) if self.source_address else None), self.timeout)
        except TimeoutError:
            raise ImapConnectError(
                f"cannot connect to {self.label}: timed out after {self.timeout:g} s") from None
        except OSError as exc:
            raise ImapConnectError(f"cannot connect to {self.label}: {_describe(exc)}") from None
        _set_keepalive(transport)
        self._proto = protocol
        self.enabled, self.selected, self.user = frozenset(), None, None
        try:
            if self.security == "tls":
                assert context is not None
                await self._start_tls(context)
            await asyncio.wait_for(asyncio.shield(protocol.greeted), self.timeout)
            if self.security == "starttls":
                assert context is not None
                await self._starttls(context)
        except TimeoutError:
            await self._abort()
            raise ImapConnectError(f"no greeting from {self.label} within {self.timeout:g} s") from None
        except ImapTimeout as exc:
            await self._abort()
            raise ImapConnectError(str(exc)) from None
        except ImapConnectionLost as exc:
            await self._abort()
            raise ImapConnectError(f"{self.label} closed the connection: {exc}") from None
        except BaseException:
            await self._abort()
            raise

    async def _start_tls(self, context: ssl.SSLContext) -> None:
        """TLS on the open connection: right away ("tls") or after STARTTLS. No wait_for around
        it: cancelling a handshake leaks the transport; ssl_handshake_timeout bounds it."""
        protocol = self._require()
        assert protocol.transport is not None  # connected: connection_made set it
        try:
            transport = await asyncio.get_running_loop().start_tls(
                protocol.transport, protocol, context, server_hostname=self.host,
                ssl_handshake_timeout=self.timeout)
        except ssl.SSLError as exc:
            raise self._tls_error(exc) from None
        except OSError as exc:
            raise ImapTlsError(f"TLS handshake with {self.label} failed: {_describe(exc)}") from None
        if transport is None:
            raise ImapTlsError(f"TLS handshake with {self.label} failed: connection closed")
        protocol.transport = transport

    async def _abort(self) -> None:
        self.close()
        if self._proto is not None:
            await asyncio.wait({self._proto.closed}, timeout=0.1)  # let the socket really close

    async def _starttls(self, context: ssl.SSLContext) -> None:
        protocol = self._require()
        if "STARTTLS" not in protocol.capabilities:
            raise ImapTlsError(f"{self.label} does not offer STARTTLS; not continuing unencrypted")
        async with self._slot():
            cmd = self._command("STARTTLS", self._wire("STARTTLS"))
            protocol.starttls_tag = cmd.tag
            await self._execute(cmd)
        if protocol.buffered():
            raise ImapTlsError(f"{self.label} sent unencrypted data after STARTTLS; refusing it")
        await self._start_tls(context)
        protocol.starttls_tag = None
        protocol.hold_plaintext = False
        await self._refresh_capabilities()  # RFC 3501: forget what was said before TLS

    def close(self) -> None:
        """Drop the connection at once (no LOGOUT)."""
        if self._proto is not None:
            if self._proto.lost is None:
                self._proto.lost = ImapConnectionLost(f"connection to {self.label} closed by the client")
            if self._proto.transport is not None:
                self._proto.transport.abort()

    async def logout(self) -> None:
        """LOGOUT politely if possible, then close. Never raises."""
        protocol = self._proto
        if protocol is None or protocol.lost is not None or self._busy:
            self.close()
            return
        try:
            async with self._slot():
                await self._execute(self._command("LOGOUT", self._wire("LOGOUT"), timeout=5))
                protocol.state = LOGOUT
        except ImapError:
            pass
        finally:
            if protocol.lost is None:
                protocol.lost = ImapConnectionLost(f"connection to {self.label} closed (logged out)")
            if protocol.transport is not None:
                protocol.transport.close()
            await self.wait_closed()

    async def wait_closed(self, timeout: float = 1.0) -> None:
        """Wait (briefly) until the socket is really closed, e.g. after close()."""
        if self._proto is not None and self._proto.transport is not None:
            await asyncio.wait({self._proto.closed}, timeout=timeout)

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset(c.upper() for c in self._proto.capabilities) if self._proto else frozenset()

    def has(self, capability: str) -> bool:
        return capability.upper() in self.capabilities

    # -- plumbing --------------------------------------------------------------------------------------
    def _require(self) -> _Protocol:
        if self._proto is None:
            raise ImapError(f"not connected to {self.label}")
        if self._proto.lost is not None:
            raise _fresh(self._proto.lost)
        return self._proto

    @asynccontextmanager
    async def _slot(self, busy: str | None = None) -> AsyncIterator[_Protocol]:
        """One command at a time. An open IDLE or FETCH stream must end first."""
        if self._busy:
            raise ImapError(f"{self._busy} is running on {self.label}; end it before other commands")
        async with self._lock:
            protocol = self._require()
            self._busy = busy
            try:
                yield protocol
            finally:
                self._busy = None

    def _wire(self, command: str) -> _Wire:
        protocol = self._require()
        caps = protocol.capabilities
        return _Wire(protocol.new_tag(), command, "LITERAL+" in caps, "LITERAL-" in caps)

    def _command(self, name: str, wire: _Wire, *, prefix: str | None = None,
                 claims: frozenset[str] = frozenset(), timeout: float | EllipsisType | None = ...,
                 keep_units: bool = True) -> _UnitCommand:
        return _UnitCommand(name, wire.tag, wire, loop=asyncio.get_running_loop(),
                            timeout=self.timeout if timeout is ... else timeout, prefix=prefix,
                            claims=claims, keep_units=keep_units)

    async def _execute(self, cmd: _UnitCommand) -> Response:
        protocol = self._require()
        try:
            response = await protocol.execute(cmd)
        except CommandTimeout:
            error = ImapTimeout(f"{cmd.name} got no answer from {self.label} within "
                                f"{self.timeout:g} s; connection closed")
            protocol.fail(error)
            raise _fresh(error) from None
        except Abort as exc:
            raise ImapError(f"{self.label}: {exc}") from None
        if response.result != "OK":
            text = cmd.tagged_text()
            raise ImapCommandError(f"{cmd.name} failed at {self.label}: {response.result} {text}",
                                   response.result, text)
        return response

    async def _simple(self, name: str, wire: _Wire, **kwargs: Any) -> _UnitCommand:
        async with self._slot():
            cmd = self._command(name, wire, **kwargs)
            await self._execute(cmd)
            return cmd

    async def _refresh_capabilities(self) -> None:
        cmd = await self._simple("CAPABILITY", self._wire("CAPABILITY"))
        self._set_capabilities(cmd)

    def _set_capabilities(self, cmd: _UnitCommand) -> bool:
        texts = [_text(u[0]) for u in cmd.units] + [cmd.tagged_text()]
        for text in texts:
            m = re.match(r"(?:\[)?CAPABILITY ([^\]]*)", text, re.I)
            if m:
                self._require().capabilities = set(m.group(1).split())
                return True
        return False
