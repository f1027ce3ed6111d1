"""The log as the tests read it: every record and line, and the tokens that must never be in it."""
from __future__ import annotations

import logging


class LogLines(logging.Handler):
    """Every record, and every line as `kabinet run` would write it (with the traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))

    @property
    def tracebacks(self) -> list[str]:
        return [line for record, line in zip(self.records, self.lines) if record.exc_info or record.exc_text]


def secrets_in_tests() -> dict[str, str]:
    """The tokens the tests configure, by name; the Telegram token by its secret part (after the bot id)."""
    from tests.telegram_api import TOKEN as TELEGRAM_TOKEN
    from tests.support.admin import TOKEN as ADMIN_TOKEN
    from tests.viber_api import TOKEN as VIBER_TOKEN

    return {"telegram": TELEGRAM_TOKEN.partition(":")[2], "viber": VIBER_TOKEN, "admin": ADMIN_TOKEN}


def leaked(lines: list[str]) -> list[tuple[str, str]]:
    return [(name, line) for line in lines for name, secret in secrets_in_tests().items() if secret in line]
