"""Reply images and documents put out for Viber to fetch: its picture and file messages take only a URL."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import mimetypes
import re
import secrets
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web

from core.messages import Attachment
from handlers.viber.render import PICTURE_TYPES

log = logging.getLogger(__name__)

ROUTE = "/viber/media/{chat}/{name}"
WEBHOOK_PATH = "/webhook/viber"
SWEEP_EVERY = 600.0
MEDIA_TTL = 3 * 24 * 3600.0  # seconds a file put out for Viber is served: Viber fetches it within minutes
CHANNEL = "viber"  # handlers.viber.channel.CHANNEL: the shelf keeps files of Viber chats only
KEY_FILE = ".key"
_NAME = re.compile(r"^[A-Za-z0-9_-]{32}\.[a-z0-9]{1,8}$")
_CHAT = re.compile(r"^[A-Za-z0-9_-]{22}$")


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


def sweep(folder: Path, ttl: float = MEDIA_TTL) -> int:
    """Remove the files put out more than `ttl` seconds ago, chat folder by chat folder, and the folders left
    empty; the count removed. Run by the nightly retention job as well as by the shelf as it writes."""
    deadline, removed = time.time() - ttl, 0
    if not Path(folder).is_dir():
        return 0
    for entry in Path(folder).iterdir():
        if entry.name.startswith("."):  # the key
            continue
        try:
            if entry.is_dir():
                for path in entry.iterdir():
                    if path.stat().st_mtime < deadline:
                        path.unlink()
                        removed += 1
                if not any(entry.iterdir()):
                    entry.rmdir()
            elif entry.stat().st_mtime < deadline:  # a file put out before files were kept per chat
                entry.unlink()
                removed += 1
        except OSError:
            log.warning("could not remove expired viber media %s", entry, exc_info=True)
    return removed


class MediaShelf:
    """Files under a folder per chat, named by an unguessable token and served until they are `ttl` seconds
    old, or until the chat is forgotten (`forget`, a core.ports.ChatFiles).

    The folder is on disk, not in memory, so that any `kabinet run` process sharing the data directory can
    serve what another one sent. A chat's folder is named by a keyed hash of its Viber id (the key is kept
    in the folder, made by the first process), so a URL does not tell whose it is and /forget finds the
    chat's files without a table.
    """

    def __init__(self, folder: Path, base_url: str | None, ttl: float = MEDIA_TTL) -> None:
        self.folder = Path(folder)
        self.base_url = base_url
        self.ttl = ttl
        self._swept_at = 0.0
        self._key: bytes | None = None

    @property
    def available(self) -> bool:
        return self.base_url is not None

    async def put(self, user_id: str, attachment: Attachment) -> str | None:
        """The public URL of the attachment for the chat, or None when we have no public address to give."""
        if self.base_url is None:
            return None
        name = secrets.token_urlsafe(24) + _suffix(attachment)
        chat = await asyncio.to_thread(self._write, user_id, name, attachment.content)
        return f"{self.base_url}/viber/media/{chat}/{name}"

    def forget(self, channel: str, external_id: str) -> None:
        """Remove every file put out for the chat."""
        if channel != CHANNEL:
            return
        folder = self.folder / self._chat_folder(external_id)
        shutil.rmtree(folder, ignore_errors=True)
        if folder.exists():
            log.error("could not remove the media of a forgotten viber chat under %s", folder)

    def _chat_folder(self, user_id: str) -> str:
        digest = hmac.new(self._secret(), user_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")

    def _secret(self) -> bytes:
        if self._key is None:
            path = self.folder / KEY_FILE
            self.folder.mkdir(parents=True, exist_ok=True)
            try:
                with open(path, "xb") as made:  # the first process makes it; the others read it
                    made.write(secrets.token_bytes(32))
            except FileExistsError:
                pass
            key = path.read_bytes()
            if len(key) != 32:  # read while another process was writing it
                raise OSError(f"{path} is not a media key yet")
            self._key = key
        return self._key

    def _write(self, user_id: str, name: str, content: bytes) -> str:
        chat = self._chat_folder(user_id)
        folder = self.folder / chat
        for _ in range(2):  # a sweep may remove the chat's folder, empty, between mkdir and write
            folder.mkdir(parents=True, exist_ok=True)
            partial = folder / (name + ".part")
            try:
                partial.write_bytes(content)
            except FileNotFoundError:
                continue
            partial.replace(folder / name)
            break
        else:
            raise OSError(f"could not write {name} under {folder}")
        if time.time() - self._swept_at > SWEEP_EVERY:
            self._swept_at = time.time()
            self._sweep()
        return chat

    def _sweep(self) -> None:
        sweep(self.folder, self.ttl)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        chat, name = request.match_info["chat"], request.match_info["name"]
        if not _CHAT.match(chat) or not _NAME.match(name):
            raise web.HTTPNotFound()
        path = self.folder / chat / name
        if not await asyncio.to_thread(self._fresh, path):
            raise web.HTTPNotFound()
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return web.FileResponse(path, headers={"Content-Type": content_type, "Cache-Control": "private"})

    def _fresh(self, path: Path) -> bool:
        try:
            return path.stat().st_mtime >= time.time() - self.ttl
        except OSError:
            return False
