"""Reply images and documents put out for Viber to fetch: its picture and file messages take only a URL."""
from __future__ import annotations

import asyncio
import logging
import mimetypes
import re
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web

from core.messages import Attachment
from handlers.viber.render import PICTURE_TYPES

log = logging.getLogger(__name__)

ROUTE = "/viber/media/{name}"
WEBHOOK_PATH = "/webhook/viber"
SWEEP_EVERY = 600.0
_NAME = re.compile(r"^[A-Za-z0-9_-]{32}\.[a-z0-9]{1,8}$")


def public_base(webhook_url: str | None) -> str | None:
    """Where our routes are public: the webhook URL without /webhook/viber, or else its origin."""
    if not webhook_url:
        return None
    parts = urlsplit(webhook_url)
    if not parts.scheme or not parts.netloc:
        return None
    path = parts.path.rstrip("/")
    prefix = path[: -len(WEBHOOK_PATH)] if path.endswith(WEBHOOK_PATH) else ""
    return urlunsplit((parts.scheme, parts.netloc, prefix, "", ""))


def _suffix(attachment: Attachment) -> str:
    suffix = PICTURE_TYPES.get(attachment.mime_type) or Path(attachment.filename).suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix or ""):
        suffix = mimetypes.guess_extension(attachment.mime_type) or ".bin"
    return suffix


class MediaShelf:
    """Files under a folder, named by an unguessable token and served until they are `ttl` seconds old.

    The folder is on disk, not in memory, so that any `kabinet run` process sharing the data
    directory can serve what another one sent.
    """

    def __init__(self, folder: Path, base_url: str | None, ttl: float = 3 * 24 * 3600) -> None:
        self.folder = Path(folder)
        self.base_url = base_url
        self.ttl = ttl
        self._swept_at = 0.0

    @property
    def available(self) -> bool:
        return self.base_url is not None

    async def put(self, attachment: Attachment) -> str | None:
        """The public URL of the attachment, or None when we have no public address to give."""
        if self.base_url is None:
            return None
        name = secrets.token_urlsafe(24) + _suffix(attachment)
        await asyncio.to_thread(self._write, name, attachment.content)
        return f"{self.base_url}/viber/media/{name}"

    def _write(self, name: str, content: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / (name + ".part")
        partial.write_bytes(content)
        partial.replace(self.folder / name)
        if time.time() - self._swept_at > SWEEP_EVERY:
            self._swept_at = time.time()
            self._sweep()

    def _sweep(self) -> None:
        deadline = time.time() - self.ttl
        for path in self.folder.iterdir():
            try:
                if path.stat().st_mtime < deadline:
                    path.unlink()
            except OSError:
                log.warning("could not remove expired viber media %s", path, exc_info=True)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = self.folder / name
        if not _NAME.match(name) or not await asyncio.to_thread(self._fresh, path):
            raise web.HTTPNotFound()
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return web.FileResponse(path, headers={"Content-Type": content_type, "Cache-Control": "private"})

    def _fresh(self, path: Path) -> bool:
        try:
            return path.stat().st_mtime >= time.time() - self.ttl
        except OSError:
            return False
