"""E-mail over SMTP (issue 19.3): one kept aiosmtplib connection, opened again when the server has dropped it,
and the server's refusals as core.notifications' DeliveryErrors, so the outbox retries what may pass later."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Literal

import aiosmtplib

from core.mailing import email_of
from core.messages import Email
from core.notifications import DeliveryError, MailboxRefused, TransientFailure

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_PORTS", "Email", "EmailSender", "MailboxRefused", "SmtpServer", "compose", "email_of", "refusal"]

TlsMode = Literal["starttls", "tls", "none"]
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    sender: str  # the From header: "rahunky@oblenergo.ua" or "АТ «Обленерго» <rahunky@oblenergo.ua>"
    username: str | None = None
    password: str | None = None
    tls: TlsMode = "starttls"
    timeout: float = 30.0


def compose(email: Email, sender: str) -> EmailMessage:
    """The MIME message: UTF-8 subject and body (encoded words and base64 on the wire), files attached."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    # A notice's own reference: a retried send carries the same Message-ID, so a mailbox shows it once.
    message["Message-ID"] = (f"<{email.reference}@{domain or 'kabinet'}>" if email.reference
                             else make_msgid(domain=domain))
    message.set_content(email.body, charset="utf-8")
    for attachment in email.attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return message


def refusal(exc: aiosmtplib.SMTPException) -> DeliveryError:
    """A server's answer as the outbox understands it: 4xx and a lost connection are tried again later; a 5xx to
    the recipient means the address is refused for good; any other 5xx refuses this message for good."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    code = getattr(exc, "code", None)
    text = f"{code} {exc.message}" if code else str(exc) or type(exc).__name__
    if isinstance(exc, (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError, aiosmtplib.SMTPTimeoutError)):
        return TransientFailure(text)
    if isinstance(exc, (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPNotSupported,
                        aiosmtplib.SMTPSenderRefused)):
        # Our settings, not the message: every message fails alike until the operator mends them.
        log.error("the SMTP server refuses our login, TLS or From settings: %s", text)
        return TransientFailure(text)
    if code is not None and 400 <= code < 500:
        return TransientFailure(text)
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        return MailboxRefused(text)
    return DeliveryError(text)


class EmailSender:
    """core.ports.Mailer over SMTP: sends e-mail through one kept SMTP connection, one message at a time (SMTP answers in order)."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server
        self._client: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()

    async def send(self, email: Email) -> None:
        """Raises TransientFailure (try again later), MailboxRefused or DeliveryError (refused for good)."""
        message = compose(email, self.server.sender)
        async with self._lock:
            kept = self._client is not None
            try:
                await self._send(message)
            except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError) as exc:
                await self._drop()
                if not kept:
                    raise refusal(exc) from exc
                # The kept connection was closed while idle (servers close them after a few minutes): a new one.
                try:
                    await self._send(message)
                except aiosmtplib.SMTPException as again:
                    await self._drop()
                    raise refusal(again) from again
            except aiosmtplib.SMTPException as exc:
                if isinstance(exc, (aiosmtplib.SMTPTimeoutError, aiosmtplib.SMTPAuthenticationError)):
                    await self._drop()
                raise refusal(exc) from exc
            except OSError as exc:  # refused or unreachable before SMTP began
                await self._drop()
                raise TransientFailure(str(exc) or type(exc).__name__) from exc

    async def _send(self, message: EmailMessage) -> None:
        if self._client is None or not self._client.is_connected:
            self._client = await self._connect()
        await self._client.send_message(message)

    async def _connect(self) -> aiosmtplib.SMTP:
        server = self.server
        client = aiosmtplib.SMTP(
            hostname=server.host, port=server.port, timeout=server.timeout,
            username=server.username, password=server.password,  # logged in by connect(), after STARTTLS
            use_tls=server.tls == "tls", start_tls=server.tls == "starttls",
        )
        await client.connect()
        return client

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def close(self) -> None:
        """Says QUIT when the connection is still open."""
        async with self._lock:
            client, self._client = self._client, None
            if client is not None and client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()
