"""`kabinet run` as a real process, talking to a stand-in Viber API: the whole Viber path end to end."""
from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiohttp

from tests.support.demo import DEMO

from tests.support.logs import leaked
from tests.support.viber import meter_jpeg
from tests.support.waiting import free_port, wait_until
from tests.viber_api import TOKEN, StandInViber, ViberUser

TIMEOUT = 60


async def kabinet(*args: str, env: dict, cwd: Path, log: Path) -> asyncio.subprocess.Process:
    with open(log, "ab") as err:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, env=env, cwd=cwd, stdout=err, stderr=err,
        )


async def finished(process: asyncio.subprocess.Process, log: Path) -> None:
    try:
        code = await asyncio.wait_for(process.wait(), TIMEOUT)
    except TimeoutError:
        process.kill()
        raise
    assert code == 0, log.read_text(errors="replace")


async def test_kabinet_run_with_viber(database, database_url, tmp_path):
    viber = await StandInViber().start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {name: value for name, value in os.environ.items() if not name.startswith("KABINET_")}
    env.update(
        KABINET_VIBER_TOKEN=TOKEN, KABINET_VIBER_API_BASE=viber.api_base,
        KABINET_VIBER_WEBHOOK_URL=f"{base}/webhook/viber", KABINET_DATABASE_URL=database_url,
        KABINET_HTTP_HOST="127.0.0.1", KABINET_HTTP_PORT=str(port), KABINET_READING_WINDOW="always",
        KABINET_DATA_DIR=str(tmp_path / "data"),
    )
    log = tmp_path / "kabinet.log"
    await finished(await kabinet("import", str(DEMO), env=env, cwd=tmp_path, log=log), log)
    server = await kabinet("run", env=env, cwd=tmp_path, log=log)
    try:
        # Started after the site listens, set_webhook makes Viber check the webhook at once.
        await wait_until(lambda: viber.webhook_check_answers or server.returncode is not None, TIMEOUT)
        assert viber.webhook_check_answers == [200], log.read_text(errors="replace")
        assert viber.webhooks[0]["url"] == f"{base}/webhook/viber"

        viber.media["meter.jpg"] = meter_jpeg()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as http:
            user = ViberUser(http, f"{base}/webhook/viber", viber, "uJ7pQm3nLk2w+Zr9sXy1bA==", "en")
            status, _ = await user.post(user.message("text", text="/balance"), signature="0" * 64)
            assert status == 403 and viber.sent == []

            welcome = await user.opens_conversation()
            assert "Welcome" in welcome["text"] and user.buttons == ["Link account"]
            assert "consent" in await user.press("Link account")
            assert "personal account number" in await user.press("I agree")
            await user.say("010000012345")
            assert "Account 010000012345 is linked" in await user.say("Шевченко")
            assert "To pay now: UAH 658.40" in await user.press("Balance")

            text = await user.sends_picture(viber.media_url("meter.jpg"))
            assert viber.media_requests == ["meter.jpg"]
            assert user.status == 200 and "0123456" in text, text
            assert "something went wrong" not in text
    finally:
        if server.returncode is None:
            server.terminate()
            try:
                await asyncio.wait_for(server.wait(), 15)
            except TimeoutError:
                server.kill()
                await server.wait()
        await viber.stop()
    assert server.returncode == 0, log.read_text(errors="replace")
    assert leaked(log.read_text(errors="replace").splitlines()) == []
