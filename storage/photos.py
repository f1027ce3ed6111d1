"""Consumers' meter photos on disk, named by their content, kept as evidence; orders' files (a contract, a scan
the consumer sent) are kept the same way."""
from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path

_SIGNATURES = ((b"\xff\xd8\xff", ".jpg"), (b"\x89PNG\r\n\x1a\n", ".png"), (b"RIFF", ".webp"), (b"%PDF-", ".pdf"))


class FilePhotoArchive:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def save(self, content: bytes, received_at: datetime) -> tuple[str, str]:
        sha256 = hashlib.sha256(content).hexdigest()
        suffix = next((ext for magic, ext in _SIGNATURES if content.startswith(magic)), ".bin")
        folder = self.root / f"{received_at:%Y}" / f"{received_at:%m}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{sha256}{suffix}"
        if not path.exists():
            partial = path.with_suffix(path.suffix + f".{os.getpid()}.part")
            partial.write_bytes(content)
            os.replace(partial, path)
        return str(path), sha256

    def load(self, path: str) -> bytes:
        try:
            return Path(path).read_bytes()
        except OSError:
            return b""
