"""The `kabinet` command, run as a consumer's operator runs it: a new Python process."""
from __future__ import annotations

import subprocess
import sys


def kabinet(args, env, stdin=""):
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True, env=env, timeout=120,
    )
