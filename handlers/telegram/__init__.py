"""The Telegram channel (aiogram 3): thin routers that turn updates into core events and replies into messages.

aiogram's types are imported here, first, with their pydantic validators built when a type is first used rather
than all at import (see `_import_aiogram_types`).
"""
from __future__ import annotations

import logging
from typing import Any, cast

log = logging.getLogger(__name__)


def _import_aiogram_types() -> None:
    """Import aiogram.types, leaving each type's validator to be built the first time it is needed.

    aiogram.types ends by calling `model_rebuild` on each of its ~900 types so that their forward references
    resolve, and that builds every validator at once: 100 MB of a process's resident memory and seconds of
    start-up, for the Bot API's whole surface when Kabinet parses a handful of update kinds. Here `model_rebuild`
    only records the namespace aiogram passes it as the type's parent namespace, which is where pydantic itself
    looks when it completes a model on first use; nothing else changes. If pydantic ever stops completing a model
    from that namespace, a type is built the usual way (`check()` below parses an update at import, so a change
    shows at once rather than on a consumer's message).
    """
    import sys

    if "aiogram.types" in sys.modules:
        return
    from pydantic import BaseModel

    descriptor = BaseModel.__dict__["model_rebuild"]  # the classmethod itself, to be put back as it was
    rebuild = descriptor.__func__

    namespace: dict[str, Any] = {}

    def record_namespace(cls: type[BaseModel], *, force: bool = False, raise_errors: bool = True,
                         _parent_namespace_depth: int = 2, _types_namespace: dict[str, Any] | None = None) -> bool | None:
        if _types_namespace is None or force or not cls.__module__.startswith("aiogram."):
            return cast("bool | None", rebuild(cls, force=force, raise_errors=raise_errors,
                           _parent_namespace_depth=_parent_namespace_depth, _types_namespace=_types_namespace))
        namespace.update(_types_namespace)
        return None

    BaseModel.model_rebuild = classmethod(record_namespace)  # type: ignore[method-assign, assignment]
    try:
        import aiogram.methods  # noqa: F401  (imports aiogram.types)
        import aiogram.types  # noqa: F401
    finally:
        BaseModel.model_rebuild = descriptor  # type: ignore[method-assign]
    # pydantic resolves a forward reference in the module that holds the annotation, where aiogram imports the
    # names only for type checkers; the names it would pass to model_rebuild are given to every aiogram module, so
    # any model (a method holding a type, a Response[Message] made on the fly) completes on first use.
    for name, module in list(sys.modules.items()):
        if name.startswith(("aiogram.types", "aiogram.methods", "aiogram.client")) and module is not None:
            for key, value in namespace.items():
                module.__dict__.setdefault(key, value)
    try:
        check()
    except Exception:  # pydantic changed: build every type as aiogram means to
        log.warning("aiogram's types are built at once (a lazy build failed)", exc_info=True)
        for name in aiogram.types.__all__:
            entity = getattr(aiogram.types, name)
            if hasattr(entity, "model_rebuild"):
                entity.model_rebuild(force=True, _types_namespace=vars(aiogram.types))


def check() -> None:
    """Parse one update of each kind Kabinet handles: builds the validators it needs (before the first consumer
    waits for them) and fails if they cannot be built."""
    from aiogram.types import Update

    person = {"id": 1, "is_bot": False, "first_name": "K"}
    chat = {"id": 1, "type": "private"}
    message = {"message_id": 1, "date": 1, "chat": chat, "from": person, "text": "/start",
               "photo": [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}],
               "document": {"file_id": "f", "file_unique_id": "u", "mime_type": "image/jpeg"},
               "contact": {"phone_number": "+380", "first_name": "K", "user_id": 1}}
    member = {"user": person, "status": "member"}
    for update in ({"message": message},
                   {"callback_query": {"id": "1", "from": person, "chat_instance": "c", "data": "d", "message": message}},
                   {"my_chat_member": {"chat": chat, "from": person, "date": 1, "old_chat_member": member,
                                       "new_chat_member": {**member, "status": "kicked", "until_date": 0}}}):
        parsed = Update.model_validate({"update_id": 1, **update})
        if parsed.event is None:
            raise RuntimeError("an update parsed into nothing")
    # and a method holding types, and a Bot API answer as the client reads it
    from aiogram.methods import Response, SetMyCommands
    from aiogram.types import BotCommand, BotCommandScopeChat, Message

    SetMyCommands(commands=[BotCommand(command="start", description="s")], scope=BotCommandScopeChat(chat_id=1),
                  language_code="uk").model_dump_json()
    Response[Message].model_validate({"ok": True, "result": message})


_import_aiogram_types()
