"""One settings object, read from KABINET_* environment variables and .env, validated at start-up."""
from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.liqpay import CHECKOUT_URL, LiqPay
from core.pay_links import PayLinks
from core.readings import ReadingWindow
from core.recognition import ENGINES

DEFAULT_DATA_DIR = Path("var")
MIN_ADMIN_TOKEN = 32  # characters: a shorter token can be guessed, even at 10 tries a minute


class SettingsError(Exception):
    """Settings that cannot start Kabinet; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="KABINET_", env_file=".env", env_file_encoding="utf-8", extra="ignore",
        env_ignore_empty=True,
    )

    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'kabinet.db'}"
    # PostgreSQL connections a process keeps open: as many as the turns it runs at once (see storage/database.py)
    database_pool: int = Field(20, ge=1, le=500)
    # A turn's hot statements straight on asyncpg on PostgreSQL (storage/fast_path.py); off: all through SQLAlchemy
    database_fast_path: bool = True
    data_dir: Path = DEFAULT_DATA_DIR
    telegram_token: SecretStr | None = None
    telegram_api_base: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    viber_token: SecretStr | None = None
    viber_api_base: str = "https://chatapi.viber.com/pa"
    viber_webhook_url: str | None = None
    admin_token: SecretStr | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=1, le=65535)
    timezone: str = "Europe/Kyiv"
    default_language: str = "uk"
    reading_window: str = "2,3"
    link_attempts_per_hour: int = Field(5, ge=1)
    link_failures_per_account_per_day: int = Field(10, ge=1)
    payee_name: str = "АТ «Демообленерго»"
    payee_iban: str = "UA213223130000026007233566001"
    payee_code: str = "00000000"
    reminders_at: str = Field("09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    events_every: float = Field(60.0, gt=0)
    redis_url: str | None = None  # shared send pace and chat limit for several processes
    # Updates one chat may send a minute; the excess is answered "slow down" once and dropped.
    chat_updates_per_minute: int = Field(20, ge=1)
    # Photos one chat may send a minute, judged before they are read; the next is answered "one at a time" once.
    chat_photos_per_minute: int = Field(3, ge=1)
    # Megabytes of kept meter photos per personal account; a photo over it is neither kept nor read (0: no quota).
    photo_quota_mb: float = Field(50, ge=0)
    telegram_rate: float = Field(30.0, gt=0)
    viber_rate: float = Field(30.0, gt=0)
    # Comma-separated service codes offered to consumers; empty means all of them.
    services: str = ""
    # How meter photos are read: "lines" (neural text-line models) or "templates" (font digit shapes).
    recognizer: Literal[ENGINES] = "lines"  # type: ignore[valid-type]  # pydantic: the tuple's members
    # Worker processes that read meter photos, each holding the models (default: one per core; 0 reads them in a
    # thread of the bot process), and the photos that may wait for one (default: two per worker); the next photo is
    # answered "many photos right now, send it again in a minute or type the reading".
    recognition_workers: int | None = Field(None, ge=0, le=64)
    recognition_queue: int | None = Field(None, ge=0, le=1000)
    # A worker is replaced (its successor started first, no photo lost) after this many photos (0: never) or once it
    # holds more than this many MB (0: no bound): its memory grows with the photos it reads.
    recognition_worker_photos: int = Field(200, ge=0)
    recognition_worker_mb: float = Field(0, ge=0)
    # Retention (README, "Retention"), in days. Sent messages stay longer than an invoice is news (7 days),
    # or the invoice job would plan its notice again.
    outbox_retention_days: int = Field(30, ge=8, le=3650)
    deliveries_retention_days: int = Field(30, ge=1, le=3650)
    photo_retention_days: int = Field(3 * 365, ge=1, le=36500)  # meter photos, kept as evidence
    # LiqPay's checkout, when both keys are set (docs: "Paying online"); the callback comes to POST /payments/liqpay
    # at liqpay_server_url, or at the URL set in the shop's LiqPay settings when that is not given.
    liqpay_public_key: str | None = None
    liqpay_private_key: SecretStr | None = Field(None, validate_default=True)
    liqpay_server_url: str | None = Field(None, pattern=r"^https?://\S+$")
    liqpay_checkout_url: str = Field(CHECKOUT_URL, pattern=r"^https?://\S+$")
    # The public address of GET /payments/liqpay/pay, which the "Pay by card" button opens (it records the order
    # and sends the consumer on to LiqPay's page); default: liqpay_server_url + "/pay".
    liqpay_pay_url: str | None = Field(None, pattern=r"^https?://\S+$", validate_default=True)
    # Where LiqPay's page sends the consumer after paying, e.g. the bot's https://t.me/NAME (default: LiqPay's own
    # result page).
    liqpay_result_url: str | None = Field(None, pattern=r"^https?://\S+$")

    @field_validator("payee_iban")
    @classmethod
    def _ukrainian_iban(cls, value: str) -> str:
        compact = value.replace(" ", "").upper()
        if not (len(compact) == 29 and compact.startswith("UA") and compact[2:].isdigit()):
            raise ValueError("must be a Ukrainian IBAN: UA and 27 digits")
        digits = "".join(str(int(ch, 36)) for ch in compact[4:] + compact[:4])
        if int(digits) % 97 != 1:
            raise ValueError("the IBAN's check digits are wrong")
        return compact

    @field_validator("admin_token")
    @classmethod
    def _long_admin_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_ADMIN_TOKEN:
            raise ValueError(f"must be at least {MIN_ADMIN_TOKEN} characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("liqpay_private_key")
    @classmethod
    def _both_liqpay_keys(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        public = info.data.get("liqpay_public_key")
        if value is None and public is not None:
            raise ValueError("not set, and KABINET_LIQPAY_PUBLIC_KEY is: LiqPay needs both keys or neither")
        if value is not None and public is None:
            raise ValueError("set without KABINET_LIQPAY_PUBLIC_KEY: LiqPay needs both keys or neither")
        return value

    @field_validator("liqpay_pay_url")
    @classmethod
    def _pay_url_known(cls, value: str | None, info: ValidationInfo) -> str | None:
        server_url = info.data.get("liqpay_server_url")
        if value is None and server_url is not None:
            return server_url.rstrip("/") + "/pay"
        if value is None and info.data.get("liqpay_public_key") is not None:
            raise ValueError("not set, and neither is KABINET_LIQPAY_SERVER_URL: the Pay by card button needs the "
                             "public address of this server's GET /payments/liqpay/pay")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("default_language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        from core.i18n import LANGUAGES

        if value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("reading_window")
    @classmethod
    def _parsable_window(cls, value: str) -> str:
        ReadingWindow.parse(value)
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        elif value.startswith("sqlite:///"):
            value = "sqlite+aiosqlite:///" + value[len("sqlite:///"):]
        if not (value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB")
        return value

    @property
    def payee(self):
        from core.model import Payee

        return Payee(self.payee_name, self.payee_iban, self.payee_code, self.pay_links)

    @property
    def service_codes(self) -> tuple[str, ...] | None:
        codes = tuple(code.strip() for code in self.services.split(",") if code.strip())
        return codes or None

    @property
    def liqpay(self) -> LiqPay | None:
        if self.liqpay_public_key is None or self.liqpay_private_key is None:
            return None
        return LiqPay(self.liqpay_public_key, self.liqpay_private_key.get_secret_value(), self.liqpay_server_url,
                      self.liqpay_checkout_url, self.liqpay_result_url)

    @property
    def pay_links(self) -> PayLinks | None:
        """The Pay by card buttons' links, when LiqPay is configured."""
        if self.liqpay_pay_url is None or self.liqpay_private_key is None:
            return None
        return PayLinks.for_shop(self.liqpay_pay_url, self.liqpay_private_key.get_secret_value())

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def window(self) -> ReadingWindow:
        return ReadingWindow.parse(self.reading_window)

    @property
    def retention(self):
        from datetime import timedelta
        from functools import partial

        from handlers.viber.media import sweep
        from scheduler.jobs import Retention

        return Retention(
            outbox=timedelta(days=self.outbox_retention_days),
            deliveries=timedelta(days=self.deliveries_retention_days),
            photos=timedelta(days=self.photo_retention_days),
            media_sweep=partial(sweep, self.viber_media_dir),
        )

    @property
    def viber_media_dir(self) -> Path:
        return self.data_dir / "viber-media"

    @property
    def photo_dir(self) -> Path:
        return self.data_dir / "photos"

    @property
    def output_dir(self) -> Path:
        return self.data_dir / "out"

    # ----- e-mail (issue 19.3): offered to consumers only when the host and the From address are set
    smtp_host: str | None = None
    smtp_port: int | None = Field(None, ge=1, le=65535)  # default: 587 (starttls), 465 (tls), 25 (none)
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = Field(None, validate_default=True)
    smtp_from: str | None = Field(None, validate_default=True)  # "rahunky@oblenergo.ua" or "Name <rahunky@…>"
    smtp_rate: float = Field(5.0, gt=0, le=1000)  # messages a second: the mail provider's limit, not a messenger's

    @field_validator("smtp_password")
    @classmethod
    def _password_with_username(cls, value: SecretStr | None, info) -> SecretStr | None:
        if info.data.get("smtp_username") and value is None:
            raise ValueError("must be set when KABINET_SMTP_USERNAME is")
        return value

    @field_validator("smtp_from")
    @classmethod
    def _mailable_from(cls, value: str | None, info) -> str | None:
        from email.utils import parseaddr

        from core.email_address import AddressRefused, normalise_address

        if value is None:
            if info.data.get("smtp_host"):
                raise ValueError("must be set when KABINET_SMTP_HOST is: the address e-mail is sent from")
            return None
        name, address = parseaddr(value)
        try:
            normal = normalise_address(address)
        except AddressRefused as exc:
            raise ValueError(f"{address!r} is not an e-mail address ({exc.reason})") from None
        if not info.data.get("smtp_host"):
            raise ValueError("KABINET_SMTP_HOST must be set too")
        return f"{name} <{normal}>" if name else normal

    @property
    def smtp(self):
        """The SMTP server e-mail goes through, or None: no e-mail is offered."""
        if not (self.smtp_host and self.smtp_from):
            return None
        from handlers.email import DEFAULT_PORTS, SmtpServer

        return SmtpServer(
            host=self.smtp_host, port=self.smtp_port or DEFAULT_PORTS[self.smtp_tls], sender=self.smtp_from,
            username=self.smtp_username,
            password=self.smtp_password.get_secret_value() if self.smtp_password else None, tls=self.smtp_tls,
        )


def load_settings(**overrides) -> Settings:
    """Settings from the environment; a bad value raises SettingsError naming its KABINET_ variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "KABINET_" + "_".join(str(part) for part in error["loc"]).upper()
            problems.append(f"{name}: {error['msg']}")
        raise SettingsError("; ".join(problems)) from None
