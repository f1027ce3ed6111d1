"""The Telegram channel (aiogram 3): thin routers that turn updates into core events and replies into messages."""
