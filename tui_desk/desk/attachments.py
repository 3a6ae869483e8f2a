"""Received attachments on disk: safe file names, saving without overwriting, opening in a viewer.

The content comes from :func:`tui_desk.mail.parse.attachment_payloads`; the file name from the
mail, which the sender controls: :func:`safe_filename` is what it may become on disk.

Decisions:

* :func:`save` never creates folders. A folder the user names must exist; a file path the
  user types must be in an existing folder (a typo does not grow a directory tree). An
  existing file is never replaced: ``name (1).pdf``, ``name (2).pdf``... is used instead.
* Files are written to a temporary file in the target folder (mode 0o600), synced, and then
  linked to their name, which fails instead of replacing when the name exists (even a dangling
  symlink). Where hard links are not supported the name is reserved with ``O_EXCL`` and the
  content renamed over the empty reservation.
* Viewers run as argv lists, detached (own session, no terminal, not waited for), never
  through a shell with the file name in the command line. ``xdg-open`` first; else a mailcap
  entry (read by :mod:`tui_desk.desk.mailcap`: the stdlib module is gone in Python 3.13) that
  needs no terminal and names the file as a word of its own (``viewer %s``, not
  ``sh -c 'viewer %s'``).
* Files to open go into a private folder (mode 0o700, one per process) under
  ``$XDG_RUNTIME_DIR`` or the temp dir. They are left there: the viewer may read them long
  after we return; the runtime dir goes at logout, the temp dir at its cleaning.
"""

from __future__ import annotations

import errno
import mimetypes
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from tui_desk.desk import mailcap
from tui_desk.desk.commands import CommandError
from tui_desk.mail.model import Attachment
from tui_desk.sanitize import BIDI_MARKER, sanitize_line

__all__ = [
    "AttachmentError", "MAX_NAME_BYTES", "default_save_dir", "filename_for", "open_attachment",
    "open_file", "opener", "private_dir", "safe_filename", "save",
]

#: Longest file name written (UTF-8 bytes). Linux allows 255; room is left for " (12)".
MAX_NAME_BYTES = 200
_MAX_EXT_CHARS = 16  # a longer "extension" is just part of the name
_SEPARATORS = re.compile(r"[/\\]")  # "\\": names from Windows senders ("C:\\x\\a.pdf")
_LEADING_JUNK = " .-~\t"  # hidden files, options, "~" expansion where the name is retyped
_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
_MIME_TYPES = mimetypes.MimeTypes(filenames=())  # built-in table only: same on every host
_MAX_COPIES = 9999


class AttachmentError(CommandError):
    """Saving or opening failed; the message is one line for the user."""


# --------------------------------------------------------------------------------------
# Names


def safe_filename(name: str, fallback: str = "attachment") -> str:
    """What a file name from mail may become on disk (one path component, never empty).

    Terminal-unsafe characters go as :func:`tui_desk.sanitize.sanitize_line` removes them;
    a bidi control it marks becomes ``_``. Only the last path component is kept
    (``../../etc/passwd`` -> ``passwd``), leading dots, dashes, tildes and spaces are dropped,
    and the name is cut to :data:`MAX_NAME_BYTES` keeping its extension. When nothing is left
    (``..``, ``/``, ``""``) the same rules are applied to ``fallback``, then ``attachment``.
    """
    for candidate in (name, fallback, "attachment"):
        cleaned = _clean_name(candidate)
        if cleaned:
            return cleaned
    return "attachment"  # unreachable: "attachment" is clean


def _clean_name(name: str) -> str:
    text = sanitize_line(name or "").replace(BIDI_MARKER, "_")
    components = [c for c in _SEPARATORS.split(text) if c.strip()]
    text = components[-1] if components else ""
    text = text.lstrip(_LEADING_JUNK).rstrip()
    if text in ("", ".", ".."):
        return ""
    return _cap(text, MAX_NAME_BYTES)


def _split_ext(name: str) -> tuple[str, str]:
    """("report", ".pdf"); ("archive", ".tar.gz"); (name, "") when there is no real extension."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or not ext or len(ext) > _MAX_EXT_CHARS or " " in ext:
        return name, ""
    if stem.lower().endswith(".tar") and len(stem) > 4:
        return stem[:-4], name[len(stem) - 4 :]
    return stem, "." + ext


def _cap(name: str, limit: int) -> str:
    if len(name.encode("utf-8", "surrogatepass")) <= limit:
        return name
    stem, ext = _split_ext(name)
    room = limit - len(ext.encode("utf-8", "surrogatepass"))
    if room < 8:  # an "extension" that long is no extension
        stem, ext, room = name, "", limit
    cut = stem.encode("utf-8", "surrogatepass")[:room].decode("utf-8", "ignore").rstrip()
    return (cut or "attachment") + ext


def filename_for(attachment: Attachment) -> str:
    """The file name to offer for ``attachment``: its own made safe, else one from its type
    and part (``attachment-1.2.pdf``)."""
    ext = _MIME_TYPES.guess_extension(attachment.content_type, strict=False) or ""
    if attachment.content_type in ("message/rfc822", "message/global"):
        ext = ".eml"
    return safe_filename(attachment.filename, f"attachment-{attachment.part_path}{ext}")


def _copies(name: str) -> Iterator[str]:
    """name, then "stem (1).ext", "stem (2).ext"..."""
    yield name
    stem, ext = _split_ext(name)
    for n in range(1, _MAX_COPIES + 1):
        yield f"{stem} ({n}){ext}"


def free_name(folder: Path | str, name: str) -> str:
    """The name :func:`save` gives ``name`` in ``folder`` now: itself, else its first free
    copy (what the save prompt shows before Enter)."""
    for candidate in _copies(name):
        if not os.path.lexists(os.path.join(folder, candidate)):
            return candidate
    return name


# --------------------------------------------------------------------------------------
# Saving


def default_save_dir() -> Path:
    """Where attachments are saved unless the user says otherwise: ``$XDG_DOWNLOAD_DIR``,
    else the XDG_DOWNLOAD_DIR of ``user-dirs.dirs``, else ``~/Downloads``, the first that is
    an existing folder; else the current directory."""
    candidates: list[Path] = []
    home = _home()
    env = os.environ.get("XDG_DOWNLOAD_DIR", "").strip()
    if env:
        candidates.append(_xdg_path(env, home))
    configured = _user_dirs_download(home)
    if configured is not None:
        candidates.append(configured)
    if home is not None:
        candidates.append(home / "Downloads")
    for candidate in candidates:
        if candidate.is_absolute() and os.path.isdir(candidate):
            return candidate
    try:
        return Path.cwd()
    except OSError:  # the current directory was removed
        return Path(".")


def _home() -> Path | None:
    try:
        return Path.home()
    except (RuntimeError, KeyError):
        return None


def _xdg_path(value: str, home: Path | None) -> Path:
    """``$HOME/Downloads`` or ``~/Downloads`` or an absolute path (xdg-user-dirs' forms)."""
    for prefix in ("$HOME", "${HOME}", "~"):
        if home is not None and (value == prefix or value.startswith(prefix + "/")):
            return home / value[len(prefix) :].lstrip("/")
    return Path(value)


def _user_dirs_download(home: Path | None) -> Path | None:
    config = os.environ.get("XDG_CONFIG_HOME", "").strip()
    base = Path(config) if config else (home / ".config" if home is not None else None)
    if base is None:
        return None
    try:
        lines = (base / "user-dirs.dirs").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        key, eq, value = line.strip().partition("=")
        if eq and key.strip() == "XDG_DOWNLOAD_DIR":
            value = value.strip().strip('"')
            return _xdg_path(value, home) if value else None
    return None


def save(data: bytes, filename: str, target: Path | str) -> Path:
    """Write ``data`` and return the path written; never replaces an existing file.

    ``target`` is a folder (the file is ``safe_filename(filename)`` in it) or a file path the
    user typed (``~`` expanded; the name is kept as typed). Folders are never created. When
    the name is taken, ``name (1).ext``, ``name (2).ext``... is used. Raises
    :class:`AttachmentError` with a one-line message.
    """
    typed = str(target)
    path = Path(os.path.expanduser(typed)) if typed else Path(".")
    if os.path.isdir(path):  # (os.path: False, not an exception, for an unusable path)
        folder, name = path, safe_filename(filename)
    elif typed.endswith(("/", os.sep)):
        raise AttachmentError(f"cannot save: no such folder {_shown(typed)}")
    else:
        folder, name = path.parent, path.name
        if not os.path.isdir(folder):
            what = "is not a folder" if os.path.lexists(folder) else "does not exist"
            raise AttachmentError(f"cannot save: folder {_shown(str(folder))} {what}")
    try:
        return _write_new(bytes(data), folder, name)
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise AttachmentError(f"cannot save to {_shown(str(folder / name))}: {reason}") from None


def _write_new(data: bytes, folder: Path, name: str) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=".tui-desk-", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        for candidate in _copies(name):
            dest = folder / candidate
            try:
                _place(tmp, dest)
            except FileExistsError:
                continue
            _sync_dir(folder)
            return dest
        raise FileExistsError(errno.EEXIST, f"{_MAX_COPIES} copies exist already", str(folder / name))
    finally:
        try:
            os.unlink(tmp)  # still there after a link (or a failure)
        except FileNotFoundError:
            pass


_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS}


def _place(tmp: str, dest: Path) -> None:
    """Give the written file the name ``dest``; FileExistsError when it is taken."""
    try:
        os.link(tmp, dest)  # never follows or replaces dest
        return
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
    # no hard links here (FAT, some network filesystems): reserve the name, move over it
    reserved = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    os.close(reserved)
    try:
        os.replace(tmp, dest)
    except OSError:
        os.unlink(dest)
        raise


def _sync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _shown(path: str) -> str:
    """A path in a message for the terminal (it may hold a name from mail)."""
    return sanitize_line(path)


# --------------------------------------------------------------------------------------
# Opening


_private_dirs: dict[str, Path] = {}
_private_lock = threading.Lock()


def private_dir() -> Path:
    """This process's folder (mode 0o700) for files handed to viewers."""
    base = os.environ.get("XDG_RUNTIME_DIR", "")
    if not base or not os.path.isdir(base):
        base = tempfile.gettempdir()
    with _private_lock:
        known = _private_dirs.get(base)
        if known is not None and os.path.isdir(known):
            return known
        made = _private_dirs[base] = Path(tempfile.mkdtemp(prefix="tui-desk-open-", dir=base))
        return made


# Programs that would run the file instead of showing it ("sh %s"): such entries are skipped.
_RUNS_FILES = re.compile(
    r"(?:sh|bash|dash|zsh|ksh|mksh|csh|tcsh|fish|busybox|env|exec|eval|sudo|node|nodejs|java|"
    r"wine|python[\d.]*|perl[\d.]*|ruby[\d.]*|php[\d.]*|tclsh[\d.]*|wish[\d.]*|lua[\d.]*)"
)
_SHELL_SYNTAX = re.compile(r"[|&;<>()$`\n\r\x00]")


def opener(content_type: str = "") -> list[str] | None:
    """The viewer for ``content_type`` as an argv list in which the element ``"%s"`` stands
    for the file (mailcap's notation): ``[".../xdg-open", "%s"]`` when xdg-open is on PATH,
    else a usable mailcap entry, else None."""
    found = shutil.which("xdg-open")
    if found:
        return [found, "%s"]
    return _mailcap_viewer(_normal_type(content_type) or "application/octet-stream")


def _normal_type(content_type: str) -> str:
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    return ctype if _TYPE.fullmatch(ctype) else ""


def _mailcap_viewer(content_type: str) -> list[str] | None:
    try:
        entries = mailcap.lookup(mailcap.getcaps(), content_type)
    except Exception:
        return None
    for entry in entries:
        flags = {str(k).strip().lower() for k in entry}
        if "needsterminal" in flags or "copiousoutput" in flags:
            continue
        argv = _mailcap_argv(str(entry.get("view", "")), content_type)
        if argv is None:
            continue
        test = entry.get("test")
        if test and not _mailcap_test(str(test)):
            continue
        return argv
    return None


def _mailcap_argv(command: str, content_type: str) -> list[str] | None:
    """The argv of a mailcap view command when it is a plain program call with the file as
    a word of its own; None for anything a shell would be needed for."""
    if not command.strip() or _SHELL_SYNTAX.search(command):
        return None
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if not argv or argv.count("%s") != 1 or argv[0] == "%s":
        return None
    if _RUNS_FILES.fullmatch(os.path.basename(argv[0])):
        return None
    out = []
    for word in argv:
        if word == "%t":
            word = content_type
        elif "%" in word and word != "%s":
            return None  # %{param} and friends: values from the mail, not supported
        out.append(word)
    return out


def _mailcap_test(test: str) -> bool:
    """Run an entry's ``test=`` (``test -n "$DISPLAY"``) from the user's own config. Tests
    that would need values from the mail substituted (``%``) are not run: the entry is skipped."""
    if "%" in test:
        return False
    try:
        done = subprocess.run(
            ["/bin/sh", "-c", test], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, timeout=3, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def open_file(path: Path | str, content_type: str = "") -> str:
    """Hand ``path`` to a viewer without waiting for it; a one-line message for the user.

    The type is guessed from the name when not given (it only matters for mailcap)."""
    file = os.path.abspath(os.fspath(path))  # absolute: never read as an option
    ctype = _normal_type(content_type) or _MIME_TYPES.guess_type(file, strict=False)[0] or ""
    template = opener(ctype)
    shown = _shown(file)
    if template is None:
        return f"no viewer found; saved to {shown}"
    argv = [file if i and word == "%s" else word for i, word in enumerate(template)]
    program = _shown(os.path.basename(argv[0]))
    try:
        _launch(argv)
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        return f"could not start {program} ({reason}); saved to {shown}"
    return f"opening {shown} with {program}"


def _launch(argv: list[str]) -> None:
    proc = subprocess.Popen(  # noqa: S603 - an argv list, no shell
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, close_fds=True,
    )
    # reaped in the background: no zombie, and the caller never waits for the viewer
    threading.Thread(target=proc.wait, name="attachment-viewer", daemon=True).start()


def open_attachment(data: bytes, filename: str, content_type: str = "") -> str:
    """Save ``data`` under a safe version of ``filename`` in :func:`private_dir` and open it.
    Raises :class:`AttachmentError` when it cannot be saved."""
    try:
        folder = private_dir()
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise AttachmentError(f"cannot make a private folder for the viewer: {reason}") from None
    path = save(data, safe_filename(filename), folder)
    return open_file(path, content_type)
