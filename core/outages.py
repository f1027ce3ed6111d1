"""Which outages touch which account: by grid node, or by settlement, street and house list.

House lists are the utility's, like `1-15;17;19А`. A house is compared as (number, suffix) after
normalising case, spaces, dashes and Latin letters that look Cyrillic, so "19А", "19а", "19 A" and
"19-а" are one house. A single entry matches that house exactly ("17" is not "17А"); a range covers
every house between its ends in that order, lettered ones too: "1-15" covers 3 and 3А (a building
between 3 and 4) but not 15А, which comes after 15. An outage that names no place touches nobody.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from core.model import Account, Outage
from core.notifications import OUTAGE_UPDATE, Kind
from core.ports import OutageNotices

END_NOTICE_WITHIN = timedelta(days=1)  # an outage that ended longer ago is history, not news

# Latin letters people type for the Cyrillic ones they look like (after casefold).
_LOOKALIKES = str.maketrans("abcehikmoptxy", "авсенікмортху")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "‘": "'"})
_HOUSE = re.compile(r"(\d+)((?:[^\W\d_]{1,2})?(?:/\d+[^\W\d_]?)?)")
_PLACE_PREFIX = re.compile(
    r"^(м|с|смт|сел|с-ще|г|пос|вул|вулиця|ул|улица|пров|пр|пр-т|пр-кт|просп|проспект|пл|площа|бульв|бул|б-р)\.?\s+"
)


def place_key(name: str | None) -> str:
    """A settlement or street as compared: no "м."/"вул." prefix, case, apostrophe variant or extra spaces."""
    text = " ".join((name or "").casefold().translate(_APOSTROPHES).split())
    text = _PLACE_PREFIX.sub("", text)
    return text.translate(_LOOKALIKES)


def node_key(name: str) -> str:
    return re.sub(r"[\s\-_.]", "", name.casefold()).translate(_LOOKALIKES)


def house_key(house: str | None) -> tuple[int, str] | None:
    """'19 А' → (19, 'а'); '10/2' → (10, '/2'); None when there is no house number."""
    compact = re.sub(r"[\s\-.]", "", (house or "").casefold()).translate(_LOOKALIKES)
    match = _HOUSE.search(compact)
    if match is None:
        return None
    return int(match.group(1)), match.group(2)


def houses_include(houses: str, house: str | None) -> bool:
    """Whether a house list like `1-15;17;19А` names the house."""
    key = house_key(house)
    if key is None:
        return False
    for part in houses.split(";"):
        low, dash, high = part.strip().partition("-")
        low_key, high_key = house_key(low), house_key(high) if dash else None
        if low_key is None:
            continue
        if high_key is None:
            if key == low_key:
                return True
        elif low_key <= key <= high_key:
            return True
    return False


def outage_touches(outage: Outage, account: Account) -> bool:
    """Whether the outage cuts this account off: its grid node is listed, or its address is covered."""
    if outage.grid_nodes and account.grid_node:
        nodes = {node_key(node) for node in outage.grid_nodes.split(";") if node.strip()}
        if node_key(account.grid_node) in nodes:
            return True
    if not (outage.settlement or outage.street):
        return False
    if outage.settlement and place_key(outage.settlement) != place_key(account.settlement):
        return False
    if outage.street and place_key(outage.street) != place_key(account.street):
        return False
    if outage.houses and outage.houses.strip():
        return houses_include(outage.houses, account.house)
    return True


def outage_is_over(outage: Outage, now: datetime) -> bool:
    """An outage without a known end is not over: it stays shown until the utility sends its end."""
    return outage.ends_at is not None and outage.ends_at <= now


async def plan_outage_notices(tx: OutageNotices, outage: Outage, now: datetime, *, changed: bool = False) -> int:
    """The notices an outage deserves now, to the chats it touches, each once. Over: its end. Current or
    coming: its first notice to chats that have not had it, and, when the operator `changed` its times or
    reason, a notice of the change to those that have."""
    chats = await tx.chats_touched_by(outage)
    if outage_is_over(outage, now):
        return await tx.plan_notices(Kind.OUTAGE_END, [(c, outage.code, "end") for c in chats], now)
    told = await tx.chats_told_of_outage(outage.code) if changed else set()
    planned = await tx.plan_notices(Kind.OUTAGE, [(c, outage.code, "start") for c in chats], now)
    if not told:
        return planned
    update = f"{OUTAGE_UPDATE}{now:%Y%m%dT%H%M%S.%f}"
    return planned + await tx.plan_notices(Kind.OUTAGE, [(c, outage.code, update) for c in chats if c in told], now)


async def plan_current_outage_notices(tx: OutageNotices, now: datetime) -> int:
    """Every current or coming outage's notices, and those of outages ended within END_NOTICE_WITHIN."""
    planned = 0
    for outage in await tx.current_outages(now) + await tx.outages_ended_between(now - END_NOTICE_WITHIN, now):
        planned += await plan_outage_notices(tx, outage, now)
    return planned
