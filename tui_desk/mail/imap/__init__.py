"""IMAP: the one place the app speaks IMAP, built on aioimaplib 2.0.3.

    errors.py      ImapError and its kinds, one line each for the user
    results.py     typed results: Folder, MailboxStatus, FetchedMessage, Update, QresyncState
    wire.py        what is sent: modified UTF-7 names, UID sets, quoting and literals (_Wire)
    responses.py   what comes back: response tokenizer, FETCH and unsolicited-update parsing
    channel.py     the update stream's queue
    adapter.py     the aioimaplib protocol and command subclasses - the only file coupled to
                   aioimaplib (and its privates); its docstring lists the upstream bugs fixed and
                   the upstream fixes that would let it shrink
    connection.py  connect, TLS/STARTTLS, close/LOGOUT, one-command-at-a-time plumbing
    session.py     ImapConnection's commands and IdleSession

Import from here: `from tui_desk.mail.imap import ImapConnection, ImapError, ...`.
"""

from tui_desk.config import Security  # the account's setting, as connect() takes it
from tui_desk.mail.imap.errors import (
    ImapAuthError,
    ImapCertificateError,
    ImapCommandError,
    ImapConnectError,
    ImapConnectionLost,
    ImapError,
    ImapProtocolError,
    ImapTimeout,
    ImapTlsError,
)
from tui_desk.mail.imap.results import (
    IDLE_MAX_SECONDS,
    SPECIAL_USE,
    FetchedMessage,
    Folder,
    MailboxStatus,
    QresyncState,
    Raw,
    Update,
)
from tui_desk.mail.imap.responses import parse_internaldate
from tui_desk.mail.imap.session import IdleSession, ImapConnection
from tui_desk.mail.imap.wire import decode_mailbox, encode_mailbox, sasl_oauth2, uid_set

__all__ = [
    "IDLE_MAX_SECONDS", "SPECIAL_USE", "FetchedMessage", "Folder", "IdleSession", "ImapAuthError",
    "ImapCertificateError", "ImapCommandError", "ImapConnectError", "ImapConnection", "ImapConnectionLost",
    "ImapError", "ImapProtocolError", "ImapTimeout", "ImapTlsError", "MailboxStatus", "QresyncState", "Raw",
    "Security", "Update", "decode_mailbox", "encode_mailbox", "parse_internaldate", "sasl_oauth2",
    "uid_set",
]
