"""The flows a Kabinet serves are the ones it is built from: its registry, not what happens to be imported."""
import dataclasses

import pytest

from core.flows import STANDARD_FLOWS, accounts, linking, photos, services
from core.flows.registry import Command, Flow, Registry
from tests.support.console import Talk, linked


def without(*left_out: Flow) -> tuple[Flow, ...]:
    return tuple(flow for flow in STANDARD_FLOWS if flow not in left_out)


async def test_a_kabinet_without_a_flow_does_not_know_its_command_or_its_menu_entry(kabinet, tmp_path):
    talk = Talk(dataclasses.replace(kabinet, flows=without(services.FLOW, photos.FLOW)), files=tmp_path / "out")
    assert "Unknown command /service" in await talk.say("/service")
    await talk.say("/help")
    assert "Services" not in talk.buttons and "Balance" in talk.buttons, talk.buttons
    photo = tmp_path / "meter.jpg"
    photo.write_bytes(b"\xff\xd8 not really a photo")
    assert "I do not handle messages of this kind" in await talk.photo(photo)


async def test_the_standard_kabinet_still_has_them(kabinet, tmp_path):
    talk = Talk(kabinet, files=tmp_path / "out")
    await talk.say("/help")
    assert "Services" in talk.buttons


def test_a_command_two_flows_declare_is_refused_when_the_registry_is_built():
    async def other_link(turn, args: str) -> None:
        pass

    with pytest.raises(ValueError, match="'link' is declared by two flows"):
        Registry([linking.FLOW, Flow(commands=(Command("link", other_link),))])


async def test_a_command_for_linked_accounts_asks_to_link_before_its_handler_runs(kabinet, tmp_path):
    ran = []

    async def cmd_probe(turn, args: str) -> None:
        ran.append(turn.accounts)

    probe = Flow(commands=(Command("probe", cmd_probe, needs=(accounts.linked,)),))
    talk = Talk(dataclasses.replace(kabinet, flows=STANDARD_FLOWS + (probe,)), files=tmp_path / "out")
    assert "No account is linked to this chat yet" in await talk.say("/probe")
    assert talk.buttons == ["Link account"] and ran == []
    await linked(talk)
    await talk.say("/probe")
    assert [[account.number for account in accounts] for accounts in ran] == [["010000012345"]]
