"""aiogram's types are built when first used: a bot process does not hold validators for the Bot API's whole surface."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json
import handlers.telegram.channel
import aiogram.types as types
update = types.Update.model_validate({"update_id": 7, "message": {
    "message_id": 3, "date": 1, "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "is_bot": False, "first_name": "O"},
    "caption": "meter", "photo": [{"file_id": "F", "file_unique_id": "U", "width": 90, "height": 60}]}})
built = [name for name in types.__all__ if getattr(getattr(types, name), "__pydantic_complete__", False)]
print(json.dumps({"built": built, "types": sum(hasattr(getattr(types, name), "model_fields") for name in types.__all__),
                  "photo": update.message.photo[0].file_id, "caption": update.message.caption,
                  "photo_type": type(update.message.photo[0]).__name__}))
"""


def test_the_telegram_channel_builds_the_types_it_parses_and_no_other():
    probe = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120,
                           env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert probe.returncode == 0, probe.stderr
    assert "built at once" not in probe.stderr  # the lazy build did not fall back
    seen = json.loads(probe.stdout)
    assert (seen["photo"], seen["caption"], seen["photo_type"]) == ("F", "meter", "PhotoSize")
    assert seen["types"] > 300
    assert "Update" in seen["built"]
    assert len(seen["built"]) < 20, seen["built"]  # aiogram alone builds every one of them at import
