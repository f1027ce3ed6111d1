"""Photo decoding benchmark: CPU seconds and peak memory of `load_photo` per kind of input, beside the old way.

Each decode runs in a fresh child process; its peak memory is the child's peak resident memory (VmHWM)
less that of the same child decoding a 16×16 JPEG (the interpreter, numpy and Pillow). The old way (before
issue 15: decode at full size, then exif_transpose, convert and thumbnail, each a full-size copy) is
measured in the same run, since the machine is shared and noisy.

  .venv/bin/python benchmarks/decode.py            # every kind, old and new
  .venv/bin/python benchmarks/decode.py --repeat 3 # the median of three children per cell
  .venv/bin/python benchmarks/decode.py --only webp # the inputs whose name says so
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, ImageOps  # noqa: E402

from core.recognition import PhotoRejected  # noqa: E402
from core.recognition.photo import WORKING_SIDE, load_photo  # noqa: E402


def old_load_photo(data: bytes) -> Image.Image:
    """The decode as it was before issue 15 (limits left out: it is measured only on inputs it accepted)."""
    img = Image.open(io.BytesIO(data), formats=("JPEG", "PNG", "WEBP"))
    if img.format == "JPEG":
        img.draft("RGB", (WORKING_SIDE, WORKING_SIDE))
    img.load()
    upright = ImageOps.exif_transpose(img)
    if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
        rgba = upright.convert("RGBA")
        rgb = Image.new("RGB", rgba.size, (255, 255, 255))
        rgb.paste(rgba, mask=rgba.getchannel("A"))
    else:
        rgb = upright.convert("RGB")
    rgb.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.LANCZOS)
    return rgb


def _texture(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A picture with edges everywhere (a solid one compresses to nothing and decodes faster than a photo)."""
    small = Image.effect_noise((size[0] // 16 or 1, size[1] // 16 or 1), 60).convert(mode)
    picture = small.resize(size, Image.Resampling.NEAREST)
    ImageDraw.Draw(picture).rectangle((size[0] // 3, size[1] // 3, size[0] // 2, size[1] // 2), fill="white")
    return picture


def _save(picture: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()


def inputs(only: str = "") -> dict[str, bytes]:
    """The kinds measured: phone photos, and small files that claim huge pictures."""
    exif = Image.Exif()
    exif[0x0112] = 6  # the phone was held upright: the pixels lie on their side
    phone = _texture((4032, 3024))
    kinds = {
        "JPEG 12 MP phone photo, EXIF rotated": lambda: _save(phone, "JPEG", quality=88, exif=exif.tobytes()),
        "JPEG 12 MP progressive": lambda: _save(phone, "JPEG", quality=88, progressive=True),
        "JPEG 50 MP": lambda: _save(_texture((8160, 6120)), "JPEG", quality=85),
        "PNG 12 MP RGB": lambda: _save(phone, "PNG", compress_level=1),
        "PNG 24 MP RGBA": lambda: _save(_texture((5660, 4240), "RGBA"), "PNG", compress_level=1),
        "PNG 24 MP 16-bit grey": lambda: _save(_texture((5660, 4240), "L").convert("I;16"), "PNG", compress_level=1),
        "PNG 24 MP palette": lambda: _save(_texture((5660, 4240)).convert("P"), "PNG", compress_level=1),
        "WebP 16 MP": lambda: _save(_texture((4620, 3460)), "WEBP", quality=80),
        "WebP 16 MP RGBA": lambda: _save(_texture((4620, 3460), "RGBA"), "WEBP", quality=80),
        "JPEG 64 MP progressive": lambda: _save(_texture((9240, 6930)), "JPEG", quality=85, progressive=True),
        "JPEG 120 MP progressive 4:4:4": lambda: _save(_texture((12600, 9500)), "JPEG", quality=85, progressive=True,
                                               subsampling=0),
        "WebP 7740×7740 solid (the issue's file)": lambda: _save(Image.new("RGB", (7740, 7740), (200, 60, 60)), "WEBP"),
        "PNG 7740×7740 solid": lambda: _save(Image.new("RGB", (7740, 7740), (200, 60, 60)), "PNG"),
    }
    return {kind: data() for kind, data in kinds.items() if only.lower() in kind.lower()}


def peak_memory_kb() -> int:
    """This process's peak resident memory. Not ru_maxrss: Linux carries that over from the parent through exec."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0])


def child(path: str, way: str) -> None:
    """Decode one file and print CPU seconds, peak memory (kB) and the outcome as JSON."""
    data = Path(path).read_bytes()
    started = time.process_time()
    try:
        picture = (old_load_photo if way == "old" else load_photo)(data)
        outcome = "x".join(map(str, picture.size))
    except PhotoRejected as refusal:
        outcome = f"refused: {refusal.reason}"
    seconds = time.process_time() - started
    peak = peak_memory_kb()
    print(json.dumps({"cpu": seconds, "peak_kb": peak, "outcome": outcome}))


def measure(path: Path, way: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", way, str(path)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("WAY", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--only", default="", help="only the inputs whose name contains this")
    parser.add_argument("--repeat", type=int, default=1, help="children per cell; the median is shown")
    args = parser.parse_args()
    if args.child:
        child(args.child[1], args.child[0])
        return
    with tempfile.TemporaryDirectory() as folder:
        tiny = Path(folder, "tiny.jpg")
        tiny.write_bytes(_save(Image.new("RGB", (16, 16)), "JPEG"))
        files = {}
        for i, (kind, data) in enumerate(inputs(args.only).items()):
            files[kind] = Path(folder, f"{i}.bin")
            files[kind].write_bytes(data)
        print("| input | file | old: CPU | old: peak memory | new: CPU | new: peak memory | new: outcome |")
        print("|---|---|---|---|---|---|---|")
        for kind, path in files.items():
            cells = []
            for way in ("old", "new"):
                runs = []
                for _ in range(args.repeat):
                    base = measure(tiny, way)["peak_kb"]
                    got = measure(path, way)
                    runs.append((got["cpu"], (got["peak_kb"] - base) / 1024, got["outcome"]))
                cpu = statistics.median(r[0] for r in runs)
                peak = max(0.0, statistics.median(r[1] for r in runs))
                cells += [f"{cpu:.2f} s", f"{peak:.0f} MB"]
            size = path.stat().st_size
            shown = f"{size / 1024:.0f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"
            print(f"| {kind} | {shown} | " + " | ".join(cells) + f" | {runs[-1][2]} |", flush=True)


if __name__ == "__main__":
    main()
