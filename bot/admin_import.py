"""POST /admin/import: a zip of billing exchange files, unpacked with limits into a folder of its own.

After a successful import only the invoices' PDFs stay (they are read from where they were imported);
the CSV files, and a folder left empty, go. A refused import leaves nothing. A zip is refused whole when any entry
escapes the folder, is a link, is encrypted, names a file that another entry uses as a folder, or when the
entries are too many or unpack to too much (a zip bomb).
"""
from __future__ import annotations

import errno
import shutil
import stat
import uuid
import zipfile
from datetime import datetime
from pathlib import Path, PurePosixPath

from storage.exchange import FILES, RowProblem

MAX_ZIP_BYTES = 100 * 1024 * 1024  # the request body
MAX_ENTRIES = 20_000
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
MAX_RATIO = 200  # unpacked/packed of one entry; CSV compresses about 10:1, PDFs less
CHUNK = 1024 * 1024
# What the file system says of a name it will not take (too long, not valid here).
NAME_ERRORS = frozenset({errno.ENAMETOOLONG, errno.ENOTDIR, errno.EISDIR, errno.EINVAL, errno.EILSEQ})


class BadZip(Exception):
    """The upload is not a zip we unpack; the message says why."""


def _entry_path(info: zipfile.ZipInfo) -> PurePosixPath | None:
    """The entry's relative path, or None for a directory; BadZip when it would escape the folder."""
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise BadZip(f"{info.filename!r} points outside the folder")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise BadZip(f"{info.filename!r} is a link")
    if info.flag_bits & 0x1:
        raise BadZip(f"{info.filename!r} is encrypted")
    return None if info.is_dir() else path


def unpack(archive: Path, into: Path) -> Path:
    """Unpack into `into` (made here) and return the folder that holds the CSV files: `into` itself, or
    its only subfolder when the zip was made of a folder. BadZip, with `into` removed, on any problem."""
    try:
        into.mkdir(parents=True)
        _unpack(archive, into)
    except BaseException:
        shutil.rmtree(into, ignore_errors=True)
        raise
    if any((into / name).is_file() for name in FILES):
        return into
    children = [child for child in into.iterdir() if child.name != "__MACOSX"]
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    return into


def _unpack(archive: Path, into: Path) -> None:
    try:
        bundle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadZip(f"not a zip file ({exc})") from None
    with bundle:
        entries = bundle.infolist()
        if len(entries) > MAX_ENTRIES:
            raise BadZip(f"{len(entries)} entries, at most {MAX_ENTRIES}")
        declared = sum(info.file_size for info in entries)
        if declared > MAX_UNPACKED_BYTES:
            raise BadZip(f"unpacks to {declared} bytes, at most {MAX_UNPACKED_BYTES}")
        seen: set[str] = set()
        folders: set[str] = set()
        total = 0
        for info in entries:
            relative = _entry_path(info)
            if relative is None:
                continue
            key = str(relative).casefold()
            if key in seen:
                raise BadZip(f"{info.filename!r} is in the zip twice")
            parents = {str(parent).casefold() for parent in relative.parents if str(parent) != "."}
            if key in folders or parents & seen:
                # "a.csv" and "a.csv/x": one name cannot be a file and a folder at once.
                clash = key if key in folders else max(parents & seen, key=len)
                raise BadZip(f"{info.filename!r}: {clash!r} is both a file and a folder in the zip")
            seen.add(key)
            folders |= parents
            target = into.joinpath(*relative.parts)
            allowed = min(info.file_size, MAX_UNPACKED_BYTES - total)
            written = 0
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(info) as source, open(target, "xb") as sink:
                    # Sizes in the zip's directory can lie: count what actually comes out.
                    while chunk := source.read(CHUNK):
                        written += len(chunk)
                        if written > allowed or written > max(info.compress_size, 1) * MAX_RATIO + CHUNK:
                            raise BadZip(f"{info.filename!r} unpacks to more than it declares or than is allowed")
                        sink.write(chunk)
            except (zipfile.BadZipFile, NotImplementedError, EOFError, ValueError) as exc:
                raise BadZip(f"{info.filename!r} cannot be unpacked ({exc})") from None
            except FileExistsError:
                raise BadZip(f"{info.filename!r} is in the zip twice") from None
            except OSError as exc:
                if exc.errno not in NAME_ERRORS:
                    raise  # a full disk is ours, not the zip's
                raise BadZip(f"{info.filename!r} cannot be unpacked ({exc.strerror})") from None
            total += written


def keep_attachments_only(into: Path, folder: Path) -> None:
    """After an import: drop the CSV files, whose rows are in the database now, and the folders left empty."""
    for name in FILES:
        (folder / name).unlink(missing_ok=True)
    for directory in sorted((p for p in into.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()
    if not any(into.iterdir()):
        into.rmdir()


def import_folder_for(root: Path, now: datetime) -> Path:
    return root / "imports" / f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def problems_json(problems: list[RowProblem], folder: Path) -> list[dict]:
    """Problems as the API shows them: file names relative to the unpacked folder, never server paths."""
    shown = []
    for problem in problems:
        name = problem.file
        if name.startswith(str(folder)):
            name = name[len(str(folder)):].lstrip("/") or "."
        shown.append({"file": name, "line": problem.line, "reason": problem.reason})
    return shown
