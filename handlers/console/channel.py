"""The console channel: one line in, the bot's replies out, buttons as `[N] label`."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from core.conversation import Kabinet
from core.messages import Attachment, Button, EventKind, Incoming, Reply
from core.notifications import DeliveryError
from handlers.channel import OutputChannel, Recipient

CHANNEL = "console"


class ConsoleChannel(OutputChannel):
    """Turns typed lines into core events and core replies into printed lines: the channel contract with a
    terminal for a messenger (nothing it refuses, no limit to a photo read from a file)."""

    name = CHANNEL

    def __init__(
        self, kabinet: Kabinet, *, chat_id: str = "console", language: str | None = None,
        out: TextIO | None = None, files_dir: Path = Path("var/out"),
    ) -> None:
        super().__init__(kabinet)
        self.chat_id = chat_id
        self.language = language
        self.out = out if out is not None else sys.stdout
        self.files_dir = Path(files_dir)
        self.buttons: list[Button] = []
        self._saved = 0

    async def event_for(self, line: str) -> Incoming:
        """A typed line as the event it stands for: a button press, a photo, a file, or text."""
        text = line.rstrip("\r\n")
        stripped = text.strip()
        if stripped.isdecimal() and self.buttons and 1 <= int(stripped) <= len(self.buttons):
            return Incoming.pressed(CHANNEL, self.chat_id, self.buttons[int(stripped) - 1].action, self.language)
        for button in self.buttons:
            if stripped and stripped.casefold() == button.label.casefold():
                return Incoming.pressed(CHANNEL, self.chat_id, button.action, self.language)
        if stripped.startswith("/photo"):
            path = Path(stripped[len("/photo"):].strip()).expanduser()
            return Incoming(CHANNEL, self.chat_id, EventKind.PHOTO, photo=await self.download_photo(str(path), None),
                            text=str(path), language=self.language)
        if stripped.startswith("/file "):  # a document (a PDF), as a messenger sends a file
            path = Path(stripped[len("/file"):].strip()).expanduser()
            return Incoming(CHANNEL, self.chat_id, EventKind.DOCUMENT,
                            document=await self.download_photo(str(path), None), file_name=path.name,
                            language=self.language)
        return Incoming.typed(CHANNEL, self.chat_id, text, self.language)

    async def send(self, line: str) -> list[Reply]:
        """Send one typed line; prints and returns the bot's replies."""
        replies = await self.kabinet.handle(await self.event_for(line))
        await self.show(replies)
        return replies

    async def show(self, replies: list[Reply]) -> None:
        """Print a turn's replies; their buttons, numbered afresh across the replies, are the ones to press."""
        self.buttons = []
        await self.answer(Recipient(self.chat_id, self.language), replies)

    async def send_reply(self, to: Recipient, reply: Reply, *, first: bool) -> None:
        lines = [reply.text] if reply.text else []
        for attachment, kind in ((reply.image, "image"), (reply.document, "document")):
            if attachment is not None:
                lines.append(f"[{kind} {self.save(attachment)}]")
        for button in reply.all_buttons():
            if button.url:  # a link, not a choice: nothing to press in a terminal
                lines.append(f"[link] {button.label}: {button.url}")
                continue
            self.buttons.append(button)
            lines.append(f"[{len(self.buttons)}] {button.label}")
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()

    async def download_photo(self, reference: str, declared_size: int | None) -> bytes:
        """The file at the path; empty when it cannot be read (core then asks for the photo again)."""
        try:
            return Path(reference).read_bytes()
        except OSError:
            return b""

    def refusal(self, exc: Exception) -> DeliveryError | None:
        return None  # a terminal refuses nothing: an error writing to it is ours

    def save(self, attachment: Attachment) -> Path:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self._saved += 1
        path = self.files_dir / f"{self._saved:03d}-{Path(attachment.filename).name}"
        path.write_bytes(attachment.content)
        return path

    async def run(self, stdin: TextIO | None = None) -> None:
        """Talk until end of input; with a terminal, show a prompt."""
        stdin = stdin if stdin is not None else sys.stdin
        interactive = stdin.isatty()
        while True:
            if interactive:
                self.out.write("> ")
                self.out.flush()
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                break
            await self.send(line)
