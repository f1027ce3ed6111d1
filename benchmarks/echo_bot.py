"""The ceiling for benchmarks/load.py: a bare aiogram 3 bot on the same webhook harness that answers every
update with one sendMessage and touches no database.

    python benchmarks/echo_bot.py PORT API_BASE TOKEN SECRET
"""
import asyncio
import sys

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web


async def main(port: int, api_base: str, token: str, secret: str) -> None:
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "photo")

    @dispatcher.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await bot.send_message(query.from_user.id, query.data or "")

    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, handle_in_background=False, secret_token=secret).register(
        app, path="/webhook/telegram")
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]))
