"""The Viber channel: viberbot's request and message models, sending through aiohttp."""
