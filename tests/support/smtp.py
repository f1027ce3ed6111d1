"""A real local SMTP server (aiosmtpd) for the tests: it keeps what arrives and answers as it is told; the
`smtp_server` and `mailer` fixtures (conftest.py offers them to every test module)."""
from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from handlers.email import EmailSender, SmtpServer

from tests.support.waiting import free_port


class Mailbox:
    """aiosmtpd's handler: keeps what arrives; answers the next RCPTs from `answers` when there are any."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.answers: list[str] = []
        self.peers: list[tuple] = []  # the connection each message came on
        self.refuse_sender = ""
        self.refuse_data = ""  # the answer to the next message's DATA instead of 250, once

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.refuse_sender:
            return self.refuse_sender
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self.answers.pop(0) if self.answers else "250 OK"
        if answer.startswith("250"):
            envelope.rcpt_tos.append(address)
        return answer

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data:
            answer, self.refuse_data = self.refuse_data, ""
            return answer
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.peers.append(session.peer)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 2.0.0 Accepted"


class SmtpStandIn:
    """A local SMTP server the test can stop and start again on the same port."""

    def __init__(self, **smtp_options) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.options = smtp_options
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server():
    stand_in = SmtpStandIn()
    stand_in.start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
async def mailer(smtp_server):
    sender = EmailSender(SmtpServer("127.0.0.1", smtp_server.port, "АТ «Демообленерго» <rahunky@demo-energo.ua>",
                                    tls="none", timeout=5))
    yield sender
    await sender.close()
