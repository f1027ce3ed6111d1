"""The utility's contacts as a consumer reads them: a line each, and the emergency line offered where power is out."""
from __future__ import annotations

from core.i18n import Translate
from core.model import Contact


def contact_line(translate: Translate, contact: Contact) -> str:
    hours = translate("contact-hours", hours=contact.hours) if contact.hours else ""
    return translate("contact-line", kind=contact.kind, label=contact.label, value=contact.value, hours=hours)


def emergency_line(translate: Translate, contacts: list[Contact]) -> str | None:
    """The sentence that offers the emergency line(s), or None when the utility gave none."""
    numbers = [contact.value for contact in contacts if contact.kind == "emergency"]
    return translate("contact-emergency", phones=", ".join(numbers)) if numbers else None
