"""Secrets kept out of the log: every record's message, arguments and exception text are redacted."""
from __future__ import annotations

import logging
from typing import Iterable

REDACTED = "[redacted]"
MIN_SECRET = 6  # shorter values would redact ordinary words and numbers


class SecretRedaction(logging.Filter):
    """Replaces each secret in a record with [redacted]; a handler's filter, so that propagated records pass it.

    A safety net only: our code logs no URL, header or request, but a library may (aiogram's file URLs
    hold the bot token, a client error's repr holds the request's headers).
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({secret for secret in secrets if len(secret) >= MIN_SECRET}, key=len, reverse=True)
        self._formatter = logging.Formatter()

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: logging reports it with the raw record
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            # Formatters print exc_text when it is set, so the traceback is rendered (and redacted) once here.
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def secrets_of(settings) -> list[str]:
    """The configured tokens: Telegram's (and its webhook secret), Viber's, the admin API's, LiqPay's private key."""
    values = [settings.telegram_token, settings.telegram_webhook_secret, settings.viber_token, settings.admin_token,
              settings.liqpay_private_key]
    secrets = [value.get_secret_value() for value in values if value is not None]
    if settings.telegram_token is not None:
        # The part after "123456789:" is the secret one; alone it also catches a URL-encoded token.
        secrets.append(settings.telegram_token.get_secret_value().partition(":")[2])
    return secrets


def redact_secrets(secrets: Iterable[str], logger: logging.Logger | None = None) -> SecretRedaction:
    """Install the redaction on every handler of the logger (the root logger by default)."""
    redaction = SecretRedaction(secrets)
    for handler in (logger or logging.getLogger()).handlers:
        for earlier in [f for f in handler.filters if isinstance(f, SecretRedaction)]:
            handler.removeFilter(earlier)  # `kabinet` run twice in one process (tests) keeps one
        handler.addFilter(redaction)
    return redaction
