"""The one writer of every file the ``symsched`` command line writes.

Every output file (``-o/--output``, ``--plot``, the files of a ``verify`` report) goes through
:func:`write_text`, :func:`write_bytes` or :func:`write_figure`, which share one set of rules:

* the parent directory must exist (it is never created);
* an existing target is replaced only with ``force`` (``<flag> PATH: file exists; pass --force to
  overwrite it``), and only if it is a regular file (or a link to one), never a directory or a
  device;
* the bytes go to a temporary file in the same directory, which is then renamed over the target
  (:func:`os.replace`): a reader sees the old file or the new one, never half of one, and the
  temporary file is removed on any failure, ``KeyboardInterrupt`` included;
* the file gets the mode an ordinary ``open(path, "w")`` would give it, ``0o666`` less the umask
  (``0644`` under umask ``022``), not the ``0600`` of :func:`tempfile.mkstemp`;
* every problem (a missing or unwritable directory, a name too long for the file system, a full
  disk) is an :class:`OutputError`: one line naming the flag, which the CLI prints as its exit-2
  error, never a traceback.

:func:`check_target` runs the same checks without writing, so a command can refuse a bad ``--plot``
or ``-o`` **before** a long run instead of failing after it.

A report directory (``verify --out DIR``) is built elsewhere and swapped in whole:
:func:`check_output_dir` refuses any directory that the report did not write (the marker file
:data:`REPORT_MARKER` says which did), and :func:`staged_directory` builds the new report in a
temporary directory beside ``DIR`` and renames it in only when everything was written.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from symsched._typing import PathLike

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "FIGURE_FORMATS",
    "REPORT_MARKER",
    "OutputError",
    "UsageError",
    "check_output_dir",
    "check_target",
    "default_file_mode",
    "figure_format",
    "staged_directory",
    "write_bytes",
    "write_figure",
    "write_text",
]

FIGURE_FORMATS: tuple[str, ...] = ("png", "pdf", "svg")
"""Image formats a ``--plot FILE`` may ask for, by the file name's extension."""

REPORT_MARKER = ".symsched-report"
"""Name of the marker file a ``verify`` report directory holds (the version and the command)."""

# the temporary names keep at most this many characters of the target's name, so that a name
# close to the file system's limit still leaves room for the prefix and the random part
_TMP_NAME_CHARS = 64


class UsageError(Exception):
    """A problem with what the user asked for or with the environment (a flag's value, a file that
    cannot be written, a missing optional dependency): one line naming the flag and the fix, exit
    status 2. :class:`symsched.cli._common.CliError` and :class:`OutputError` are kinds of it."""


class OutputError(UsageError):
    """A file or directory the command was asked to write cannot be written (exit status 2)."""


def _fail(flag: str, path: PathLike, why: str) -> OutputError:
    return OutputError(f"{flag} {os.fspath(path)}: {why}")


def _umask() -> int:
    """The process umask, read without changing it where the system allows (Linux ``/proc``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # the portable way: set it and put it back at once
    os.umask(mask)
    return mask


def default_file_mode() -> int:
    """``0o666`` less the umask: the mode ``open(path, "w")`` gives a new file.

    Returns
    -------
    int
        The permission bits of a new file.
    """
    return 0o666 & ~_umask()


def _name_max(directory: Path) -> int:
    try:
        return int(os.pathconf(directory, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def _why(exc: OSError) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return "the file name is too long for this file system"
    return exc.strerror or type(exc).__name__


def _check_directory(directory: Path, flag: str, path: PathLike) -> None:
    """The directory a file goes into: it must exist, be a directory and take new files."""
    if not directory.exists():
        raise _fail(flag, path, f"directory {str(directory)!r} does not exist; create it first")
    if not directory.is_dir():
        raise _fail(flag, path, f"{str(directory)!r} is not a directory")
    try:  # the real test: make (and remove) a temporary file there, as the write will
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".symsched-probe.", suffix=".tmp")
    except OSError as exc:
        raise _fail(flag, path, f"cannot write in {str(directory)!r}: {_why(exc)}") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def figure_format(path: PathLike, flag: str) -> str:
    """The image format a figure path asks for: its extension, one of :data:`FIGURE_FORMATS`.

    Parameters
    ----------
    path
        The figure's file name.
    flag
        The option that named it, for the error message.

    Returns
    -------
    str
        The extension, lower case, without the dot.

    Raises
    ------
    OutputError
        If the name has no extension (``--plot adir`` would otherwise silently become
        ``adir.png``) or an extension matplotlib is not asked to write here.
    """
    suffix = Path(os.fspath(path)).suffix.lower().lstrip(".")
    dotted = [f".{f}" for f in FIGURE_FORMATS]
    choices = ", ".join(dotted[:-1]) + " or " + dotted[-1]
    if not suffix:
        raise _fail(flag, path, f"no image format in the file name; end it in {choices}")
    if suffix not in FIGURE_FORMATS:
        raise _fail(flag, path, f"unsupported image format '.{suffix}'; use {choices}")
    return suffix


def check_target(path: PathLike, *, force: bool, flag: str, figure: bool = False) -> Path:
    """Check that ``path`` may be written, without writing it; return it as a :class:`Path`.

    Commands call this before their work, so that a bad output path fails at once, not after the
    run; the writers call it again just before writing.

    Parameters
    ----------
    path
        The target file.
    force
        Whether an existing regular file may be replaced.
    flag
        The option that named the file (``-o``, ``--plot``, ``--out``), for the error message.
    figure
        Also check that the extension names an image format (:func:`figure_format`).

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    OutputError
        With one line naming ``flag``: the path is empty or a directory, its directory is missing
        or unwritable, the name is too long, the file exists (without ``force``) or is not a
        regular file, or (``figure``) the extension is not png, pdf or svg.
    """
    try:
        return _check_target(path, force=force, flag=flag, figure=figure)
    except OSError as exc:  # a stat that fails: a name too long, a loop of links, ...
        raise _fail(flag, path, _why(exc)) from None


def _check_target(path: PathLike, *, force: bool, flag: str, figure: bool) -> Path:
    text = os.fspath(path)
    if not text.strip():
        raise OutputError(f"{flag}: the file name is empty")
    target = Path(text)
    if target.is_dir():
        raise _fail(flag, path, "is a directory; give a file name")
    if figure:
        figure_format(target, flag)
    _check_directory(target.parent, flag, path)
    if len(os.fsencode(target.name)) > _name_max(target.parent):
        raise _fail(flag, path, "the file name is too long for this file system")
    if os.path.lexists(target):
        if not force:
            raise _fail(flag, path, "file exists; pass --force to overwrite it")
        if not target.is_file():
            raise _fail(flag, path, "exists and is not a regular file; refusing to replace it")
    return target


def _tmp_prefix(target: Path) -> str:
    return f".{target.name[:_TMP_NAME_CHARS]}."


def _atomic_write(
    path: PathLike, *, force: bool, flag: str, write: Callable[[IO[bytes]], object]
) -> None:
    target = check_target(path, force=force, flag=flag)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=_tmp_prefix(target), suffix=".tmp")
    except OSError as exc:
        raise _fail(flag, path, f"cannot write in {str(target.parent)!r}: {_why(exc)}") from None
    try:
        try:
            os.fchmod(fd, default_file_mode())
            fh = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            raise
        with fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if force:
            os.replace(tmp, target)
        else:
            _link_no_clobber(tmp, target, flag, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _fail(flag, path, f"could not write the file: {_why(exc)}") from None
    except BaseException:  # KeyboardInterrupt, or an error of the writer: no temporary file left
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _link_no_clobber(tmp: str, target: Path, flag: str, path: PathLike) -> None:
    """Move ``tmp`` to ``target`` without replacing a file that appeared meanwhile."""
    try:
        os.link(tmp, target)  # fails if target exists: no window for a clobber
    except FileExistsError:
        os.unlink(tmp)
        raise _fail(flag, path, "file exists; pass --force to overwrite it") from None
    except OSError:  # a file system without hard links: check, then rename
        if os.path.lexists(target):
            os.unlink(tmp)
            raise _fail(flag, path, "file exists; pass --force to overwrite it") from None
        os.replace(tmp, target)
        return
    os.unlink(tmp)


def write_bytes(path: PathLike, data: bytes, *, force: bool, flag: str) -> None:
    """Write ``data`` to ``path`` atomically, by the rules of this module.

    Parameters
    ----------
    path
        The target file; its directory must exist.
    data
        The bytes to write.
    force
        Replace an existing regular file.
    flag
        The option that named the file, for error messages (``-o``, ``--plot``, ``--out``).

    Raises
    ------
    OutputError
        See :func:`check_target`; also when the write itself fails (disk full, ...).
    """
    _atomic_write(path, force=force, flag=flag, write=lambda fh: fh.write(data))


def write_text(
    path: PathLike, text: str, *, force: bool, flag: str, encoding: str = "utf-8"
) -> None:
    """Write ``text`` (encoded with ``encoding``, default UTF-8) to ``path`` atomically.

    The text is written as given (no newline is added); errors as :func:`write_bytes`.

    Parameters
    ----------
    path
        The target file.
    text
        The text.
    force, flag
        As :func:`write_bytes`.
    encoding
        The text encoding.
    """
    write_bytes(path, text.encode(encoding), force=force, flag=flag)


def write_figure(
    path: PathLike,
    fig: Figure,
    *,
    force: bool,
    flag: str,
    dpi: float = 120,
    metadata: dict[str, str | None] | None = None,
) -> None:
    """Save a matplotlib figure to ``path`` atomically, in the format its extension names.

    Parameters
    ----------
    path
        Target file ending in ``.png``, ``.pdf`` or ``.svg`` (case-insensitive).
    fig
        A :class:`matplotlib.figure.Figure`.
    force, flag
        As :func:`write_bytes`.
    dpi
        Resolution of raster output.
    metadata
        Passed to ``savefig`` (per-format keys; ``None`` values remove a default entry).

    Raises
    ------
    OutputError
        See :func:`check_target` and :func:`figure_format`.
    """
    fmt = figure_format(path, flag)

    def save(fh: IO[bytes]) -> None:
        if metadata is None:
            fig.savefig(fh, format=fmt, dpi=dpi)
        else:
            fig.savefig(fh, format=fmt, dpi=dpi, metadata=metadata)

    _atomic_write(path, force=force, flag=flag, write=save)


# -- report directories -----------------------------------------------------------------------


def _protected_reason(resolved: Path) -> str | None:
    """Why a directory must never be replaced by a report, or ``None``."""
    if resolved == Path(resolved.anchor):
        return "is the root of the file system"
    try:
        home = Path.home().resolve()
    except (RuntimeError, KeyError, OSError):
        home = None
    if home is not None and resolved == home:
        return "is your home directory"
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        return "is the current directory or one of its parents"
    if (resolved / ".git").exists():
        return "is the root of a git repository"
    if (resolved / "pyproject.toml").exists():
        return "holds a pyproject.toml (a project directory)"
    return None


def check_output_dir(
    path: PathLike, *, force: bool, flag: str, marker: str = REPORT_MARKER
) -> Path:
    """Check that a report directory may be (re)written at ``path``; return it as a :class:`Path`.

    A directory is replaced only if it is missing, empty, or holds ``marker`` (it is a report this
    program wrote), and in the last case only with ``force``. These are refused whatever
    ``force`` says: the file-system root, the home directory, the current directory and its
    parents, the root of a git repository, a directory holding ``pyproject.toml``, any non-empty
    directory without ``marker``, a symbolic link, and a path that is not a directory.

    Parameters
    ----------
    path
        The report directory.
    force
        Whether a previous report (a directory holding ``marker``) may be replaced.
    flag
        The option that named it, for the error message.
    marker
        The file that marks a directory as a report this program wrote.

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    OutputError
        With one line naming ``flag`` and the fix.
    """
    try:
        return _check_output_dir(path, force=force, flag=flag, marker=marker)
    except OSError as exc:
        raise _fail(flag, path, _why(exc)) from None


def _check_output_dir(path: PathLike, *, force: bool, flag: str, marker: str) -> Path:
    text = os.fspath(path)
    if not text.strip():
        raise OutputError(f"{flag}: the directory name is empty")
    out = Path(text)
    if out.is_symlink():
        raise _fail(flag, path, "is a symbolic link; give the report directory itself")
    if out.exists() and not out.is_dir():
        raise _fail(flag, path, "exists and is not a directory; choose another " + flag)
    reason = _protected_reason(out.resolve())
    if reason is not None:
        raise _fail(flag, path, f"{reason}; refusing to replace it, choose another {flag}")
    _check_directory(out.parent, flag, path)
    if out.exists() and any(out.iterdir()):
        if not (out / marker).is_file():
            raise _fail(
                flag,
                path,
                f"is not empty and is not a symsched report (no {marker} file); refusing to "
                f"replace it even with --force, choose another {flag}",
            )
        if not force:
            raise _fail(
                flag,
                path,
                f"holds a previous report; pass --force to replace it, or choose another {flag}",
            )
    return out


@contextlib.contextmanager
def staged_directory(
    path: PathLike, *, force: bool, flag: str, marker: str = REPORT_MARKER
) -> Iterator[Path]:
    """Build a directory beside ``path`` and swap it in only when the ``with`` body succeeds.

    Yields a new, empty temporary directory in the same parent as ``path`` (so the final rename
    stays on one file system). When the body returns, ``path`` is checked again
    (:func:`check_output_dir`); an existing ``path`` is renamed aside, the new directory renamed
    in, and the old one removed. If the body raises or is interrupted, the temporary directory is
    removed and ``path`` is left exactly as it was.

    Parameters
    ----------
    path, force, flag, marker
        As :func:`check_output_dir`.

    Yields
    ------
    Path
        The new, empty temporary directory to fill.

    Raises
    ------
    OutputError
        From the checks, or when a rename fails (the previous directory is put back).
    """
    out = check_output_dir(path, force=force, flag=flag, marker=marker)
    parent = out.resolve().parent
    try:
        tmp = Path(tempfile.mkdtemp(dir=parent, prefix=_tmp_prefix(out), suffix=".new"))
    except OSError as exc:
        raise _fail(flag, path, f"cannot write in {str(parent)!r}: {_why(exc)}") from None
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it 0700
        yield tmp
        check_output_dir(path, force=force, flag=flag, marker=marker)  # unchanged meanwhile?
        _swap_in(tmp, out.resolve(), flag, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_in(new: Path, target: Path, flag: str, path: PathLike) -> None:
    """Rename ``new`` to ``target``; an existing ``target`` is moved aside first, then removed."""
    old: Path | None = None
    if target.exists():
        old = Path(tempfile.mkdtemp(dir=target.parent, prefix=_tmp_prefix(target), suffix=".old"))
        try:
            os.rename(target, old)  # replaces the empty directory mkdtemp just made
        except OSError as exc:
            old.rmdir()
            raise _fail(
                flag, path, f"could not move the previous report aside: {_why(exc)}"
            ) from None
    try:
        os.rename(new, target)
    except BaseException as exc:
        if old is not None:
            os.rename(old, target)  # put the previous report back
        if isinstance(exc, OSError):
            raise _fail(flag, path, f"could not move the new report in: {_why(exc)}") from None
        raise
    if old is not None:
        try:
            shutil.rmtree(old)
        except OSError as exc:
            raise _fail(
                flag,
                path,
                f"the new report is in place, but the previous one could not be "
                f"removed from {str(old)!r}: {_why(exc)}",
            ) from None
