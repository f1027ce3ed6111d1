"""A consumer's e-mail address and the 6-digit code that proves it is theirs (issue 19.3); no I/O.

The code is mailed to the address and typed back in the chat. It lives 15 minutes and takes 5 tries, then a
new one must be asked for; a chat may ask for a few codes an hour and an address may receive a few a day, so
the bot cannot be used to flood a stranger's mailbox. Only a salted hash of a code is stored.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=15)
CODE_TRIES = 5
CODES_PER_CHAT_HOUR = 3
CODES_PER_ADDRESS_DAY = 5

MAX_ADDRESS = 254  # RFC 5321's limit on a path, less its angle brackets
MAX_LOCAL_PART = 64
MAX_LABEL = 63

# The unquoted local part RFC 5322 calls a dot-atom; a quoted one ("a b"@x) is legal and never seen in practice.
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
_TOP_LABEL = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")


class AddressRefused(ValueError):
    """Not an address we can mail to; `reason` names the Fluent key that tells the consumer why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def normalise_address(text: str) -> str:
    """'  Ivan.Petrenko@Ukr.NET ' → 'Ivan.Petrenko@ukr.net'; a Cyrillic domain is written in its ASCII
    (punycode) form, which is what SMTP carries. The local part keeps its case: it is the mailbox's to read."""
    address = text.strip()
    if address.lower().startswith("mailto:"):
        address = address[len("mailto:"):]
    if address.startswith("<") and address.endswith(">"):
        address = address[1:-1]
    address = address.strip()
    if not address:
        raise AddressRefused("email-bad-empty")
    if any(char.isspace() for char in address):
        raise AddressRefused("email-bad-spaces")
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise AddressRefused("email-bad-no-at")
    if len(local) > MAX_LOCAL_PART or not _LOCAL.fullmatch(local):
        raise AddressRefused("email-bad-name")
    domain = _ascii_domain(domain)
    normal = f"{local}@{domain}"
    if len(normal) > MAX_ADDRESS:
        raise AddressRefused("email-bad-too-long")
    return normal


def _ascii_domain(domain: str) -> str:
    domain = domain.rstrip(".").lower()
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise AddressRefused("email-bad-domain") from None
    labels = ascii_domain.split(".")
    if (len(labels) < 2 or not all(len(label) <= MAX_LABEL and _LABEL.fullmatch(label) for label in labels)
            or not _TOP_LABEL.fullmatch(labels[-1])):
        raise AddressRefused("email-bad-domain")
    return ascii_domain


def shown_address(address: str) -> str:
    """An address as the consumer wrote it: a punycode domain back in its own letters."""
    local, _, domain = address.rpartition("@")
    try:
        return f"{local}@{domain.encode('ascii').decode('idna')}"
    except UnicodeError:
        return address


# The kinds of notices a chat may also take by e-mail (/settings), and those a first address takes.
EMAIL_NOTICES = ("invoice", "debt", "reading", "verification", "outages", "orders")
DEFAULT_EMAIL_NOTICES = ("invoice",)


@dataclass(frozen=True)
class ChatEmail:
    """A chat's confirmed address and the kinds of notices (EMAIL_NOTICES) it also takes by e-mail."""

    address: str
    confirmed_at: datetime
    notices: frozenset[str] = frozenset(DEFAULT_EMAIL_NOTICES)
    refused_at: datetime | None = None  # its server refused it for good: nothing is mailed there

    def wants(self, switch: str | None) -> bool:
        return self.refused_at is None and switch in self.notices


@dataclass(frozen=True)
class PaperInvoiceChoice:
    """Whether the utility still posts a paper invoice for an account, as a consumer chose it (exported)."""

    account: str  # the personal account's number
    paper: bool
    chosen_at: datetime


# ----- confirmation codes


def new_code() -> str:
    """Six random digits (leading zeros kept), from the operating system's secure source."""
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def code_digest(code: str, salt: str | None = None) -> str:
    """'salt$sha256' of a code. Six digits are a million tries for whoever reads the table, so the hash is not
    what guards the code: it keeps it out of backups and query logs; its 15 minutes and 5 tries guard it."""
    salt = salt if salt is not None else secrets.token_hex(8)
    return f"{salt}${hashlib.sha256(f'{salt}:{code}'.encode()).hexdigest()}"


def code_matches(code: str, digest: str) -> bool:
    salt, _, _ = digest.partition("$")
    return hmac.compare_digest(code_digest(code, salt), digest)


def typed_code(text: str) -> str | None:
    """'123 456', '123-456', ' 123456 ' → '123456'; None when it is not six digits."""
    digits = re.sub(r"[\s-]", "", text)
    return digits if len(digits) == CODE_DIGITS and digits.isascii() and digits.isdigit() else None


@dataclass(frozen=True)
class PendingCode:
    """The last code mailed to a chat's new address, waiting to be typed back."""

    address: str
    digest: str
    sent_at: datetime
    tries: int = 0

    def expires_at(self) -> datetime:
        return self.sent_at + CODE_LIFETIME


class Verdict(str, Enum):
    CONFIRMED = "confirmed"
    WRONG = "wrong"  # a try spent; tries_left say how many remain
    SPENT = "spent"  # the last try was wrong: a new code must be asked for
    EXPIRED = "expired"
    NOT_A_CODE = "not-a-code"  # not six digits: no try spent (a typo, or the consumer wrote something else)


@dataclass(frozen=True)
class CodeCheck:
    verdict: Verdict
    tries_left: int


def check_code(pending: PendingCode, text: str, now: datetime) -> CodeCheck:
    """What a typed code does to the pending one; the caller stores `CODE_TRIES - tries_left` as its tries."""
    left = CODE_TRIES - pending.tries
    if left <= 0:
        return CodeCheck(Verdict.SPENT, 0)
    if now >= pending.expires_at():
        return CodeCheck(Verdict.EXPIRED, left)
    code = typed_code(text)
    if code is None:
        return CodeCheck(Verdict.NOT_A_CODE, left)
    if code_matches(code, pending.digest):
        return CodeCheck(Verdict.CONFIRMED, left)
    left -= 1
    return CodeCheck(Verdict.WRONG if left else Verdict.SPENT, left)


@dataclass(frozen=True)
class CodeLimit:
    """Why no code is sent now, and from when one may be asked for again."""

    reason: str  # a Fluent key: email-code-limit-chat or email-code-limit-address
    again_at: datetime


def code_limit(chat_sent: list[datetime], address_sent: list[datetime], now: datetime,
               per_chat_hour: int = CODES_PER_CHAT_HOUR,
               per_address_day: int = CODES_PER_ADDRESS_DAY) -> CodeLimit | None:
    """None when a code may be mailed now; otherwise the limit it would cross. `chat_sent` are the times codes
    were mailed for this chat (to any address), `address_sent` those to this address (from any chat)."""
    for sent, window, most, reason in (
        (chat_sent, timedelta(hours=1), per_chat_hour, "email-code-limit-chat"),
        (address_sent, timedelta(days=1), per_address_day, "email-code-limit-address"),
    ):
        recent = sorted(at for at in sent if at > now - window)
        if len(recent) >= most:
            return CodeLimit(reason, recent[len(recent) - most] + window)
    return None
