"""The utility's invoice PDFs: a file is taken only when it is a regular file (never a link) that is a PDF.

The billing import checks and copies each one; a chat asking for an invoice reads it with the same checks,
so a file replaced by a link or by something else after the import is never sent.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_PDF_BYTES = 20 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
CHUNK = 1024 * 1024


class NotAnInvoicePdf(ValueError):
    """The file is not one we send as an invoice; the message says why."""


def open_pdf(path: Path | str) -> int:
    """A descriptor of the PDF at `path`, its last component not followed when it is a link."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if os.path.islink(path):
            raise NotAnInvoicePdf("is a link, not a file") from None
        raise NotAnInvoicePdf(f"cannot be opened ({exc.strerror})") from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise NotAnInvoicePdf("is not a regular file")
        if status.st_size > MAX_PDF_BYTES:
            raise NotAnInvoicePdf(f"is {status.st_size} bytes, at most {MAX_PDF_BYTES}")
        if os.pread(descriptor, len(PDF_MAGIC), 0) != PDF_MAGIC:
            raise NotAnInvoicePdf(f"does not start with {PDF_MAGIC.decode()} (not a PDF)")
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def read_pdf(path: Path | str) -> bytes:
    """The PDF's bytes; NotAnInvoicePdf when it is gone, a link, not a PDF or too large."""
    descriptor = open_pdf(path)
    with os.fdopen(descriptor, "rb") as source:
        content = source.read(MAX_PDF_BYTES + 1)
    if len(content) > MAX_PDF_BYTES:  # grew after the check
        raise NotAnInvoicePdf(f"is more than {MAX_PDF_BYTES} bytes")
    return content


def copy_pdf(path: Path, target: Path) -> None:
    """Copy the checked PDF to `target` (made here, with its folders)."""
    descriptor = open_pdf(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with os.fdopen(descriptor, "rb") as source, open(target, "xb") as sink:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > MAX_PDF_BYTES:
                raise NotAnInvoicePdf(f"is more than {MAX_PDF_BYTES} bytes")
            sink.write(chunk)
