"""Secrets kept out of the log (issue 16.2): the redaction `kabinet` puts on its log handlers."""
from __future__ import annotations

import io
import logging

import aiohttp
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from bot.cli import main
from bot.logs import SecretRedaction, redact_secrets, secrets_of
from bot.settings import Settings
from tests.support.admin import TOKEN as ADMIN_TOKEN
from tests.telegram_api import TOKEN as TELEGRAM_TOKEN
from tests.viber_api import TOKEN as VIBER_TOKEN

SECRETS = [TELEGRAM_TOKEN, VIBER_TOKEN, ADMIN_TOKEN]


def client_error(url: str, headers: dict[str, str]) -> aiohttp.ClientResponseError:
    """What aiohttp raises for a 4xx: its text quotes the URL, its repr the request's headers too."""
    info = aiohttp.RequestInfo(URL(url), "POST", CIMultiDictProxy(CIMultiDict(headers)), URL(url))
    return aiohttp.ClientResponseError(info, (), status=403, message="Forbidden")


@pytest.fixture
def written():
    """A logger writing to a string through a handler with the redaction, as `kabinet` sets them up."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger = logging.Logger("tests.logs.redacted")  # a logger of its own, outside the tree pytest captures
    logger.addHandler(handler)
    settings = Settings(_env_file=None, telegram_token=TELEGRAM_TOKEN, viber_token=VIBER_TOKEN,
                        admin_token=ADMIN_TOKEN)
    redact_secrets(secrets_of(settings), logger)
    yield logger, out


def test_the_tokens_are_redacted_in_the_message_its_arguments_and_the_traceback(written):
    logger, out = written
    error = client_error(f"https://api.telegram.org/file/bot{TELEGRAM_TOKEN}/photos/1.jpg",
                         {"X-Viber-Auth-Token": VIBER_TOKEN, "Authorization": f"Bearer {ADMIN_TOKEN}"})
    logger.warning("viber said %r", error)
    logger.warning(f"telegram said {error}")
    try:
        raise RuntimeError("a failure") from error
    except RuntimeError:
        logger.exception("admin token %s", ADMIN_TOKEN)
    logger.warning("stack", stack_info=True, extra={})
    text = out.getvalue()
    assert "Traceback" in text and "403" in text and "api.telegram.org" in text
    assert text.count("[redacted]") >= 5
    assert not [secret for secret in SECRETS if secret in text]


def test_the_secret_part_of_a_telegram_token_is_redacted_alone_too(written):
    logger, out = written
    secret_part = TELEGRAM_TOKEN.partition(":")[2]
    logger.warning("url-encoded: bot123456789%%3A%s", secret_part)
    assert secret_part not in out.getvalue()


def test_short_values_are_not_taken_for_secrets():
    assert SecretRedaction(["", "abc", "x" * 6]).secrets == ["x" * 6]


def test_kabinet_puts_the_redaction_on_its_log_handlers(monkeypatch, tmp_path, caplog, capsys):
    monkeypatch.setenv("KABINET_TELEGRAM_TOKEN", TELEGRAM_TOKEN)
    monkeypatch.setenv("KABINET_VIBER_TOKEN", VIBER_TOKEN)
    monkeypatch.setenv("KABINET_ADMIN_TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv("KABINET_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    root = logging.getLogger()
    try:
        assert main(["jobs", "list"]) == 0
        logging.getLogger("aiogram.event").error(
            "Cause exception: %s", f"url='https://api.telegram.org/file/bot{TELEGRAM_TOKEN}/photos/1.jpg'")
        logging.getLogger("handlers.viber.api").warning("headers %s", {"X-Viber-Auth-Token": VIBER_TOKEN})
    finally:
        for handler in root.handlers:
            for redaction in [f for f in handler.filters if isinstance(f, SecretRedaction)]:
                handler.removeFilter(redaction)
    assert "Cause exception" in caplog.text and "[redacted]" in caplog.text
    assert not [secret for secret in SECRETS if secret in caplog.text]
