"""Freed memory goes back to the system: a process that handled MB-sized blocks (a photo's bytes and arrays, a
chart, a PDF) does not keep the pages they left in its heaps (core/memory.py; the recognition workers' side is in
tests/test_recognition_pool.py)."""
from __future__ import annotations

import asyncio
import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

import bot.server
from tests.test_startup import running, settings_for

ROOT = Path(__file__).resolve().parent.parent

# In a fresh interpreter (a test process's heap has holes of its own for the small arrays to fall in): 80 MB of
# 2 MB arrays, each with a small array kept after it, used and freed; resident MB then, and after the trim.
SCATTER = """
import json, sys
from pathlib import Path
import numpy as np
from core.memory import give_back_freed_memory

def resident():
    status = Path("/proc/self/status").read_text()
    return int(next(l for l in status.splitlines() if l.startswith("VmRSS:")).split()[1]) / 1024

np.ones(2**19)  # 4 MB freed: glibc's mmap threshold rises above the arrays below, which then come from the heap
start = resident()
arrays, kept = [], []
for _ in range(40):
    arrays.append(np.ones(2**18))
    kept.append(np.ones(512))
del arrays
freed = resident()
give_back_freed_memory()
print(json.dumps({"start": start, "freed": freed, "trimmed": resident()}))
"""


# What a bot process has no use for: fpdf2 (with fontTools and numpy) and segno draw a receipt, a rare turn that
# imports them; the Viber SDK (with requests) serves Viber only where it is configured; Alembic (with Mako and
# Pygments) runs only when the schema is behind; onnxruntime reads photos in the recognition workers.
NOT_IN_A_BOT = ("fpdf", "fontTools", "numpy", "segno", "viberbot", "requests", "alembic", "mako", "pygments",
                "onnxruntime")


def test_the_bot_server_imports_no_package_only_a_rare_turn_or_another_process_needs():
    done = subprocess.run([sys.executable, "-c", "import json, sys, bot.server; print(json.dumps(sorted(sys.modules)))"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    imported = set(json.loads(done.stdout))
    assert sorted(imported & set(NOT_IN_A_BOT)) == []


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's heaps")
def test_the_pages_freed_between_kept_blocks_go_back():
    done = subprocess.run([sys.executable, "-c", SCATTER], cwd=ROOT, capture_output=True, text=True, check=True)
    mb = json.loads(done.stdout)
    assert mb["freed"] - mb["start"] > 60, f"the heap gave them back by itself: nothing shown here {mb}"
    assert mb["trimmed"] - mb["start"] < 20, mb


# As SCATTER, with the large blocks mapped on their own first: resident MB once they are freed, not trimmed.
MAPPED = SCATTER.replace("np.ones(2**19)  #", "from core.memory import map_large_blocks\nmap_large_blocks()\nnp.ones(2**19)  #")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's heaps")
def test_large_blocks_mapped_on_their_own_go_back_when_freed_without_a_trim():
    assert "map_large_blocks()" in MAPPED
    done = subprocess.run([sys.executable, "-c", MAPPED], cwd=ROOT, capture_output=True, text=True, check=True)
    mb = json.loads(done.stdout)
    assert mb["freed"] - mb["start"] < 20, mb


async def test_the_server_maps_large_blocks_on_their_own(tmp_path, database_url, monkeypatch):
    mapped = []
    monkeypatch.setattr(bot.server, "map_large_blocks", lambda: mapped.append(True))
    async with running(settings_for(tmp_path, database_url)):
        assert mapped == [True]


async def test_the_server_trims_its_heaps_while_it_runs(tmp_path, database_url, monkeypatch):
    trims = []

    def trim() -> None:
        trims.append(asyncio.get_running_loop().time())
        give_back_freed_memory()

    give_back_freed_memory = bot.server.give_back_freed_memory
    monkeypatch.setattr(bot.server, "give_back_freed_memory", trim)
    monkeypatch.setattr(bot.server, "TRIM_EVERY", 0.2)
    async with running(settings_for(tmp_path, database_url)):
        await asyncio.sleep(1.1)
        assert len(trims) >= 3, trims
    stopped = len(trims)
    await asyncio.sleep(0.5)
    assert len(trims) == stopped, "trimming after the server stopped"
