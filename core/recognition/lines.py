"""The counter read as one line of text by neural text-line recognisers, under what billing knows.

The recognisers are PaddleOCR's PP-OCR text-line models (Apache-2.0) as ONNX files, run with onnxruntime on
the CPU. They were trained on printed and photographed text, so unlike templates drawn from fonts they know
what a photographed drum digit looks like. Each gives, for every few pixels of the line, probabilities of a
gap or a character (CTC). Kabinet keeps the gap and the ten digits, and scores every reading the billing
window allows by the probability that the line spells exactly it: a reading is not read digit by digit, so
a digit the model half-sees still counts, and a digit it did not see at all makes the reading unlikely
instead of being guessed. Two models of different generations vote: their log-probabilities are averaged.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import threading
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from core.recognition import Recognition
from core.recognition.counter import counter_windows, cut_fitted, cut_searched, trim_frame
from core.recognition.detect import DETECTOR, TextDetector
from core.recognition.decode import Allowed, Decoded, outside_log_prior, posterior, result
from core.recognition.drums import advanced_before_last, last_drum_unsure
from core.recognition.engine import STRIP_ASPECT, check_request, digit_counts
from core.recognition.photo import load_detail, load_photo
from core.recognition.scene import Place, places

log = logging.getLogger(__name__)

# The text-line models: (package that ships the file, path inside it). The packages are installed for the
# files only; they are never imported (they would pull in OpenCV).
MODELS = (
    ("rapidocr_onnxruntime", "models/ch_PP-OCRv4_rec_infer.onnx"),
    ("rapidocr", "models/PP-OCRv6_rec_small.onnx"),
)
LINE_HEIGHT = 48  # what the models were trained on
MIN_LINE_WIDTH = 320  # narrower lines are padded to this, as PaddleOCR does
MAX_LINE_ASPECT = 25
def _drum_rows(reddish: np.ndarray) -> np.ndarray:
    """The rows the red drums span: a band cut from a small photo may hold print above or below the counter
    ("500 imp/kWh"), under which a red drum filled less than half the cut's height and was not taken for one.
    The rows where the reddest columns are mostly red; every row when there is hardly any red."""
    share = reddish.mean(axis=0)
    if share.max(initial=0.0) < RED_ROWS_FROM:
        return np.ones(reddish.shape[0], bool)
    return reddish[:, share >= 0.5 * share.max()].mean(axis=1) > 0.5


CERTAIN_GAP = 0.999  # frames surer of a gap than this are squeezed together before scoring
# Chosen on development sets (seeds 11 and 12 of make_meter_set.py, strips and scenes), never on the
# reported ones: at 0.8 no reading was wrong there.
ACCEPT = 0.8
# Prior of a line that goes on after the reading's digits: fraction drums that were not cut off (not red
# enough to be found). Chosen on development sets (0, 0.02, 0.1, 0.3; benchmarks/RECOGNITION.md).
FRACTION_PRIOR = 0.02
# The same for a line without colour (an infrared camera at night), where red fraction drums cannot be found and
# cut off: in the dim development frames most such lines went on past the reading (0.02, 0.1, 0.2, 0.3 tried).
GREY_FRACTION_PRIOR = 0.1
GREY_SPREAD = 12  # grey levels between a pixel's channels: less than this in 99 % of them is a grey line
# The confidence a grey line's reading needs: the dim infrared frames of development seeds 11 and 12 read two
# wrong at 0.83 and 0.85, where fraction drums go on grey after the reading (0.87 and 0.9 tried; 0.9 kept).
GREY_ACCEPT = 0.9
# The confidence a band cut again as the search found it needs to stand in for an unsure first cut (_second_cut):
# it rescues a reading the models were unsure of, so it is asked for more than ACCEPT. On development seeds 303 and
# 404 (200 phone photos, 200 frames) eight such rescues were all right, seven at 0.91-0.98 and one at 0.81; a frame
# of reported seed 202 was rescued wrong at 0.81 (757073 for 757043), and a drawn counter with a digit half hidden
# is read again 12180 for 12480 at 0.82 (tests/test_photo_whole.py).
SECOND_CUT_ACCEPT = 0.9
# The runner-up reading at least this share of the best one's probability: close enough to compete (see
# advanced_before_last).
CLOSE = 0.1
# A red fraction drum's pixels: red at least this far above green and blue, and at least this many percent
# of them (a beige or pinkish meter face is neither).
RED_MARGIN = 45
RED_RATIO_PERCENT = 130
RED_ROWS_FROM = 0.25  # a column at least this red is looked at for the rows the red drums span
# Another place on the photo read as another reading this close (log-probability) to the best: "not sure".
COMPETING = 8.0
# A reading's digits, as both models spell them, with a step between two of them this many times the median of
# their other steps: a drum was dropped. Chosen on development frames 11-13 (1.6 and 1.8 with either model uneven
# refused 2-5 right frames of 300 for the same 1-2 wrong ones; benchmarks/RECOGNITION.md).
UNEVEN = 1.7
# Judged on readings of at least this many digits (three steps, or more with the digits spelled after the reading):
# dev frames 303 and 404 had two four-drum counters read wrong so (5890|5 as 5895) and no right reading refused.
SPACED = 4
# A text line is read only when at least this share as thick as the band read best, when that band's best reading
# scores over COUNTER_EVIDENCE (log-probability; a band that spells no reading of the window scores far less).
TEXT_THICKNESS = 0.6
COUNTER_EVIDENCE = -20.0
UNAGREED = 1000.0
# The drum rules judge the line from this share of the digits' pitch before the reading's first digit to as far past its
# last (reading_drums; a digit's middle as the models place it may be a third of a drum off), where at least PAST_DRUMS
# of a pitch more goes on past that (fraction drums, the unit): a tight cut of the counter is judged whole.
DRUM_REACH, PAST_DRUMS = 0.75, 0.5


class ModelsMissing(RuntimeError):
    """The text-line model files are not installed."""


def model_files() -> list[Path]:
    """The installed model files, without importing the packages that ship them."""
    return [path for path in (installed(package, inner) for package, inner in MODELS) if path is not None]


def detector_file() -> Path | None:
    """The installed text detector's model file."""
    return installed(*DETECTOR)


def installed(package: str, inner: str) -> Path | None:
    """The file `inner` of an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    for root in (spec.submodule_search_locations or []) if spec else []:
        if (Path(root) / inner).is_file():
            return Path(root) / inner
    return None


class LineModel:
    """One ONNX text-line recogniser: a picture of a line in, per-frame gap and digit probabilities out."""

    def __init__(self, path: Path):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # One photo uses one core: the bot reads several photos at once in its worker threads.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        # A line's width follows each photo's: an arena keeps buffers for the shapes it has seen. With it a worker
        # grew from 332 to 429 MB over 400 photos; without it, it stays at 333 MB (benchmarks/worker_memory.py).
        options.enable_cpu_mem_arena = False
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        characters = self.session.get_modelmeta().custom_metadata_map["character"].splitlines()
        # Output column 0 is the CTC blank; character k is column k + 1.
        self.columns = [0] + [1 + characters.index(str(digit)) for digit in range(10)]

    def frames(self, line: Image.Image) -> np.ndarray:
        """Frames x 11: probability of a gap (column 0) or of digit d (column d + 1) at each step of the line.

        Any other character counts as a gap: a frame edge read as "|" is not a digit, and a digit the
        model took for a letter is weak evidence for every digit rather than for one.
        """
        width = resized_width(line)
        # The models were trained on OpenCV's BGR pictures, scaled to -1..1.
        pixels = np.asarray(line.convert("RGB").resize((width, LINE_HEIGHT), Image.Resampling.BILINEAR), np.float32)
        batch = np.zeros((1, 3, LINE_HEIGHT, max(width, MIN_LINE_WIDTH)), np.float32)
        batch[0, :, :, :width] = (pixels[:, :, ::-1] / 127.5 - 1.0).transpose(2, 0, 1)
        out = self.session.run(None, {self.input: batch})[0][0]
        kept = out[:, self.columns].astype(np.float64)
        kept[:, 0] += np.clip(1.0 - kept.sum(axis=1), 0.0, 1.0)
        return kept


def resized_width(line: Image.Image) -> int:
    """The width a line is scaled to for the models (LINE_HEIGHT high, at most MAX_LINE_ASPECT times as wide)."""
    return min(max(1, math.ceil(LINE_HEIGHT * line.width / line.height)), LINE_HEIGHT * MAX_LINE_ASPECT)


def spelling_log_likelihood(frames: np.ndarray, table: np.ndarray) -> np.ndarray:
    """log P(the line spells row r of table | frames) for every row (readings x digits), by CTC's forward pass."""
    return spelling_log_likelihoods(frames, table)[0]


def spelling_log_likelihoods(frames: np.ndarray, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every row of table: log P(the line spells exactly it), and log P(the line starts with it).

    The second lets the line go on after the row's digits with anything (fraction drums that were not cut
    off): one more state after the last, entered from the row's end, that takes every later frame whole.
    """
    count, digits = table.shape
    states = 2 * digits + 2  # gap, digit, gap, digit, ..., gap, then the rest of the line
    labels = np.zeros((count, states), np.int64)
    labels[:, 1:-1:2] = table + 1
    labels[:, -1] = frames.shape[1]  # a column of ones appended to each frame
    # A path may jump from a digit straight to the next one unless the two are the same digit.
    jump = np.zeros((count, states), bool)
    jump[:, 3:-1:2] = table[:, 1:] != table[:, :-1]
    jump[:, -1] = True  # from the last digit straight into the rest of the line
    alpha = np.zeros((count, states))
    alpha[:, 0] = frames[0, 0]
    alpha[:, 1] = frames[0, labels[:, 1]]
    log_scale = np.zeros(count)
    for step in np.hstack([frames, np.ones((len(frames), 1))])[1:]:
        moved = alpha.copy()
        moved[:, 1:] += alpha[:, :-1]
        moved[:, 2:] += np.where(jump[:, 2:], alpha[:, :-2], 0.0)
        alpha = moved * step[labels]
        scale = alpha.max(axis=1) + 1e-300
        alpha /= scale[:, None]
        log_scale += np.log(scale)
    exact = alpha[:, -2] + alpha[:, -3]
    return np.log(exact + 1e-300) + log_scale, np.log(exact + alpha[:, -1] + 1e-300) + log_scale


def squeeze_gaps(frames: np.ndarray, certain: float = CERTAIN_GAP) -> np.ndarray:
    """The frames with every run of near-certain gaps cut to its first frame.

    A path through such a run stays on a gap (any other step costs a factor under 1 - certain), so one gap
    frame keeps what the run means, two equal digits apart, and the forward pass has fewer steps: about
    half of a counter line's frames are gaps between digits.
    """
    gap = frames[:, 0] > certain
    keep = ~gap
    keep[1:] |= gap[1:] & ~gap[:-1]
    keep[0] = True
    return frames[keep]


def evenly_spaced(frames: np.ndarray, digits: int) -> bool:
    """Do the first `digits` digits a model spells frame by frame lie evenly along the line?

    A counter's drums are evenly spaced: a reading whose digits leave a gap of about two drums between two of them
    dropped a faint, blank or half-turned drum, and went on into a fraction drum to make up the count. The widest of
    the reading's steps is compared with the median of the other steps, the steps to the digits spelled after the
    reading (fraction drums not cut off) among them. A spelling with fewer digits than the reading (two equal digits
    merged), or a reading shorter than SPACED, is not judged.
    """
    centres = digit_centres(frames)
    if len(centres) < digits or digits < SPACED:
        return True
    steps = np.diff(centres)
    widest = int(steps[: digits - 1].argmax())
    return float(steps[widest]) < UNEVEN * float(np.median(np.delete(steps, widest)))


def dropped_drum(raw: list[np.ndarray], reading: str) -> bool:
    """Do the reading's digits lie unevenly (evenly_spaced) for every model that spells the reading itself (a model
    that spells a digit in the dropped drum's window lies evenly, but its digits are not the reading's); for every
    model when none does?"""
    judges = [frames for frames in raw if spells(frames, reading)] or raw
    return not any(evenly_spaced(frames, len(reading)) for frames in judges)


def spells(frames: np.ndarray, reading: str) -> bool:
    """Does a model, frame by frame, spell the reading as the first digits of the line?"""
    return free_reading(frames)[0].startswith(reading)


def digit_centres(frames: np.ndarray) -> np.ndarray:
    """Where each digit a model spells frame by frame lies on the line: the middle of its run, in frames."""
    best = frames.argmax(axis=1)
    bounds = np.flatnonzero(np.diff(np.concatenate([[-1], best, [-1]])))
    starts, ends = bounds[:-1], bounds[1:]
    digit = best[starts] > 0
    return (starts[digit] + ends[digit]) / 2


def reading_drums(line: Image.Image, raw: list[np.ndarray], digits: int) -> Image.Image:
    """The line cut to the drums a reading of `digits` digits was read from, for the drum rules to judge.

    A line may go on past the reading's drums (fraction drums not red enough to be cut off, the unit, print beside a
    counter whose cut found no edge): cut into the reading's count of windows with it, the last window is no drum, and
    its ink looks like one caught between two digits. Where every model spells at least `digits` digits, the line is
    cut DRUM_REACH of their pitch outside the first and the last (on a side where more goes on); otherwise it is judged
    whole.
    """
    left, right, pitch = float(line.width), 0.0, float(line.width)
    resized = resized_width(line)
    for frames in raw:
        centres = digit_centres(frames)[:digits]
        if digits < 2 or len(centres) < digits:
            return line
        # Frame k covers the k-th of len(frames) equal steps of the padded line the model was given.
        scale = max(resized, MIN_LINE_WIDTH) / len(frames) * line.width / resized
        pitch = min(pitch, float(np.median(np.diff(centres))) * scale)
        left = min(left, (centres[0] + 0.5) * scale)
        right = max(right, (centres[-1] + 0.5) * scale)
    # Cut only where something goes on past the drums: a tight cut of the counter is judged as it is.
    start = left - DRUM_REACH * pitch if left >= (DRUM_REACH + PAST_DRUMS) * pitch else 0.0
    end = right + DRUM_REACH * pitch if line.width - right >= (DRUM_REACH + PAST_DRUMS) * pitch else line.width
    if (start, end) == (0.0, line.width) or end - start < 4 * digits:
        return line
    return line.crop((math.floor(start), 0, math.ceil(end), line.height))


def free_reading(frames: np.ndarray) -> tuple[str, float]:
    """The likeliest spelling frame by frame, and the product of its digits' probabilities."""
    best = frames.argmax(axis=1)
    text, confidence, last = [], 1.0, 0
    for step, column in enumerate(best):
        if column and column != last:
            text.append(str(column - 1))
            confidence *= float(frames[step, column])
        last = column
    return "".join(text), confidence


def grey(line: Image.Image) -> bool:
    """Has the line no colour (an infrared camera at night)? Then red fraction drums cannot be told by it."""
    pixels = np.asarray(line.convert("RGB"), np.int16)
    return float(np.percentile(pixels.max(axis=2) - pixels.min(axis=2), 99)) < GREY_SPREAD


def integer_drums(line: Image.Image) -> Image.Image:
    """The line without the red fraction drums at its right end, when there are some.

    A meter shows whole kWh on its black drums and often tenths and hundredths on red ones after them; the
    reading is the whole part, and a line that spelled the fraction too would fit no reading of the meter's
    digits (or worse, the wrong one). A drum is red when most of its height is: red ink digits on white
    drums, or a red mark, are not cut. When in doubt the line is left whole, and scoring then says "not sure".
    """
    pixels = np.asarray(line.convert("RGB"), np.float32)
    # A dim photo (a camera at night) is brightened first, every channel alike, so its red is as far ahead.
    pixels *= max(1.0, 255.0 / max(float(np.percentile(pixels.max(axis=2), 99)), 1.0))
    red, other = pixels[..., 0], pixels[..., 1:].max(axis=2)
    # Red and pink drums, not a beige or pinkish meter face: well ahead of green and blue, and by a ratio.
    reddish = (red - other >= RED_MARGIN) & (red * 100 >= other * RED_RATIO_PERCENT)
    reddish = reddish[_drum_rows(reddish)]
    if not reddish.size:
        return line
    columns = reddish.mean(axis=0) > 0.5
    height, width = reddish.shape
    found = np.flatnonzero(columns)
    if not found.size or width - 1 - found[-1] > 0.5 * height:
        return line  # no red at the right end
    start, gap = int(found[-1]), 0
    for x in range(int(found[-1]), -1, -1):
        if columns[x]:
            start, gap = x, 0
        else:
            gap += 1
            if gap > 0.2 * height:  # the frame between two red drums is narrower than this
                break
    if found[-1] - start < 0.4 * height or start < 1.5 * height or columns[:start].mean() > 0.2:
        return line  # a red stroke rather than a drum, nothing left of it, or a red-lit counter
    return line.crop((0, 0, start, height))


class LineMeterReader:
    """Reads the counter from a photo with the text-line models; thread-safe, blocking; models load on first use."""

    def __init__(self, paths: list[Path] | None = None, accept: float = ACCEPT, fraction: float = FRACTION_PRIOR,
                 detector_path: Path | None | bool = True, margin: float = COMPETING):
        """detector_path: the text detector's model file; True: the installed one; None or False: no detector."""
        self._paths = paths
        self._detector_path = detector_path
        self.accept = accept
        self.fraction = fraction
        self.margin = margin
        self.text_thickness = TEXT_THICKNESS
        self.grey_fraction = GREY_FRACTION_PRIOR
        self.close = CLOSE
        self.grey_accept = max(accept, GREY_ACCEPT)
        self._models: list[LineModel] | None = None
        self._detector: TextDetector | None = None
        self._lock = threading.Lock()

    def models(self) -> list[LineModel]:
        with self._lock:
            if self._models is None:
                paths = self._paths if self._paths is not None else model_files()
                if not paths:
                    raise ModelsMissing("no text-line model is installed: pip install --no-deps -r requirements-models.txt")
                self._models = [LineModel(path) for path in paths]
            return self._models

    def detector(self) -> TextDetector | None:
        """The text detector for whole photos, loaded on first use; None when it is not installed."""
        with self._lock:
            if self._detector is None and self._detector_path:
                path = detector_file() if self._detector_path is True else self._detector_path
                if path is not None:
                    self._detector = TextDetector(path)
                else:
                    self._detector_path = None
            return self._detector

    def warm(self) -> None:
        """Load the models now (in a thread at start-up), so the first photo waits less; a failure is only logged."""
        try:
            self.models()
            self.detector()
        except Exception:
            log.warning("the meter-photo models could not be loaded", exc_info=True)

    def read(self, image: bytes, *, digits: int | None = None, previous: int | None = None, meter_type: str = "",
             zone_previous: tuple[int | None, ...] = ()) -> Recognition:
        """The drum counter's reading (lcd.DisplayAwareReader reads displays: meter_type and zone_previous unused)."""
        return self.read_photo(load_photo(image), digits=digits, previous=previous, detail=lambda: load_detail(image))

    def read_photo(self, photo: Image.Image, *, digits: int | None = None, previous: int | None = None,
                   detail: Callable[[], Image.Image] | None = None) -> Recognition:
        """detail: the same photo decoded larger (photo.load_detail), asked for only when the answer is "not sure"."""
        check_request(digits, previous)
        counts = [digits] if digits else digit_counts(previous)
        read = self.read_places(self.places(photo, counts), digits=digits, previous=previous)
        if not read:
            return Recognition(None, 0.0)
        answer = choose(read, self.margin)
        if answer.reading is None and detail is not None and (sharper := self._sharper(read, photo, detail)):
            read += self.read_places([sharper], digits=digits, previous=previous)
            answer = choose(read, self.margin)
        if answer.reading is None and (agreed := self._second_cut(read, photo, digits, previous)) is not None:
            answer = agreed
        return answer

    def _second_cut(self, read: list[tuple[Place, Decoded]], photo: Image.Image, digits: int | None,
                    previous: int | None) -> Recognition | None:
        """The band read best cut again as the search found it, when that reads its likeliest reading surely.

        A band is fitted to the counter against the face around it; with a shadow across the face, or the light
        falling off, the fit finds no edge and keeps the print above and below and the unit beside it, and the
        models grow unsure. The dark band the search found is the counter's own frame: read on its own and agreeing
        with the fitted cut's likeliest reading, it stands in for it (another place reading another reading
        still makes the answer "not sure").
        """
        bands = [(place, decoded) for place, decoded in read if place.searched is not None]
        if not bands:
            return None
        place, decoded = max(bands, key=lambda item: item[1].evidence)
        first = decoded.recognition
        likeliest = first.reading or next(iter(first.candidates), None)
        if decoded.evidence <= COUNTER_EVIDENCE or place.searched is None or likeliest is None:
            return None
        if first.confidence >= self.accept or (len(first.candidates) > 1 and advanced_before_last(*first.candidates[:2])):
            return None  # refused by the drum rules (a drum caught between two digits), not for being unsure: stays so
        cut = Place(integer_drums(cut_searched(photo, place.searched)), place.source, place.thickness)
        if cut.picture.width < 8 or cut.picture.height < 8:
            return None
        [(_, again)] = self.read_places([cut], digits=digits, previous=previous)
        if again.recognition.reading != likeliest or again.recognition.confidence < SECOND_CUT_ACCEPT:
            return None
        return choose([item for item in read if item[0] is not place] + [(cut, again)], self.margin)

    def _sharper(self, read: list[tuple[Place, Decoded]], photo: Image.Image,
                 detail: Callable[[], Image.Image]) -> Place | None:
        """The band read best that reads like a counter, cut again from the photo decoded larger.

        The working photo is a phone photo halved or more: the digits of a small or soft counter lose what tells
        a 3 from an 8. Read again at the camera's resolution it is often sure; it is still only one more place,
        so another place reading another reading still makes the answer "not sure".
        """
        bands = [(place, decoded) for place, decoded in read if place.fitted is not None]
        if not bands:
            return None
        place, decoded = max(bands, key=lambda item: item[1].evidence)
        if decoded.evidence <= COUNTER_EVIDENCE or place.fitted is None:
            return None
        larger = detail()
        if larger.width <= photo.width:
            return None
        picture = cut_fitted(larger, place.fitted.scaled(larger.width / photo.width))
        return Place(integer_drums(picture), place.source, place.thickness)

    def places(self, photo: Image.Image, counts: list[int]) -> list[Place]:
        """Where the counter may be: the photo itself when it may be the counter alone, else bands and text lines."""
        if photo.width >= STRIP_ASPECT * photo.height:
            found = [Place(trim_frame(photo), "strip", photo.height)]
        elif (text := self.detector()) is not None:
            found = places(photo, text, counts)
        else:
            found = [Place(window, "band", window.height) for window in counter_windows(photo, unlike_face=True)]
        return [Place(integer_drums(place.picture), place.source, place.thickness, place.fitted, place.searched)
                for place in found
                if place.picture.width >= 8 and place.picture.height >= 8]

    def read_places(self, found: list[Place], *, digits: int | None = None,
                    previous: int | None = None) -> list[tuple[Place, Decoded]]:
        """Each place's reading (given, or None with candidates), its evidence comparable across places.

        The bands are read first; a text line is read only when some band reads like a counter, and only when at
        least TEXT_THICKNESS as thick as the band read best: the print around a counter is smaller than its
        digits, and a year or "1000 imp/kWh" fits a four-digit meter's billing window as well as its counter.
        """
        if not found:
            return []
        models = self.models()
        counts = [digits] if digits else digit_counts(previous)
        windows = [Allowed.after(previous, count) for count in counts if previous < 10**count] if previous is not None else []

        def read(place: Place) -> tuple[Place, Decoded]:
            if windows:
                return place, self._read_line(place.picture, models, windows, fraction=place.source != "text")
            return place, self._read_freely(place.picture, models, counts)

        done = [read(place) for place in found if place.source != "text"]
        counters = [(place, decoded) for place, decoded in done if decoded.evidence > COUNTER_EVIDENCE]
        if not counters:
            return done  # lines of print only compete (see choose): with no band read as a counter, no need
        least = self.text_thickness * max(counters, key=lambda item: item[1].evidence)[0].thickness
        return done + [read(place) for place in found if place.source == "text" and place.thickness >= least]

    def _read_line(self, line: Image.Image, models: list[LineModel], windows: list[Allowed], fraction: bool = True) -> Decoded:
        """The reading of one cut-out line; its evidence is the score (log-probability) of its best reading.

        fraction: the line may go on past the reading (fraction drums not cut off). Not for a line of print: a
        serial number whose first digits fit the billing window would be read as them.
        """
        raw = [model.frames(line) for model in models]  # where the digits lie: squeeze_gaps drops gap frames
        frames = [squeeze_gaps(f) for f in raw]
        # Each counter length tried is equally likely, and so is "something outside its window" (a replaced
        # meter, a wrong previous reading) within it.
        share = math.log(len(windows))
        # With the digit count known, the line may go on past the reading (fraction drums not cut off); with
        # several counts tried, a short reading would explain the start of a longer one.
        colourless = grey(line)
        tail = (self.grey_fraction if colourless else self.fraction) if len(windows) == 1 and fraction else 0.0
        score = np.concatenate([
            sum(_spelling_score(f, window.table, tail) for f in frames) / len(frames) + window.prior - share
            for window in windows
        ])
        top, confidence = posterior(score, [outside_log_prior(window.digits) - share for window in windows])
        starts = np.cumsum([0] + [len(window.values) for window in windows])
        texts = tuple(_text(windows, starts, int(i)) for i in top)
        evidence = float(score[top[0]])
        runner_up = confidence * math.exp(float(score[top[1]]) - evidence) if len(top) > 1 else 0.0
        decoded = result(texts[0], confidence, texts[1:], self.grey_accept if colourless else self.accept, evidence)
        if decoded.recognition.reading is None:
            return decoded
        if last_drum_unsure(reading_drums(line, raw, len(texts[0])), len(texts[0]), frames):
            # A drum caught between two digits: the models' confident reading of it is often a third digit.
            return Decoded(Recognition(None, confidence, texts), evidence)
        if dropped_drum(raw, texts[0]):
            # A drum dropped (blank, faint, half-turned) and a fraction drum taken in to make up the count.
            return Decoded(Recognition(None, confidence, texts), evidence)
        if len(texts) > 1 and advanced_before_last(*texts[:2]) and runner_up >= self.close * confidence:
            # X9 against X0: the last drum turning 9 -> 0 with the drum before it already advanced, or not.
            return Decoded(Recognition(None, confidence, texts), evidence)
        return decoded

    def _read_freely(self, line: Image.Image, models: list[LineModel], counts: list[int]) -> Decoded:
        """Without a previous reading: the models must each spell the same reading of a possible length.

        The evidence is the log of the confidence (the lesser model's product of its digits' probabilities); a
        reading the models do not agree on ranks below every agreed one.
        """
        frames = [model.frames(line) for model in models]
        spelled = [free_reading(f) for f in frames]
        texts = {text for text, _ in spelled}
        confidence = min(conf for _, conf in spelled)
        text = spelled[0][0]
        evidence = math.log(max(confidence, 1e-300))
        agreed = len(texts) == 1 and len(text) in counts and confidence >= self.accept
        if agreed and not last_drum_unsure(line, len(text), frames):
            return Decoded(Recognition(text, confidence), evidence)
        return Decoded(Recognition(None, confidence, tuple(sorted(t for t in texts if t))), evidence - UNAGREED)


def choose(read: list[tuple[Place, Decoded]], margin: float = COMPETING) -> Recognition:
    """The reading of the band (or strip) whose best reading is likeliest, unless another place reads another one.

    A line of print is never the answer, it can only compete: on a four-digit meter a year, a model's number or
    "1000 imp/kWh" fits the billing window as well as the counter, and the drum rules (drums.py) are not sure to
    catch a half-turned drum in the detector's tighter cut of the counter. "Another one": given (not "not sure")
    and with evidence within `margin` (log-probability) of the answer, or above it. A serial number that fits
    the window, or a second counter read differently, then makes the answer "not sure", with both among the
    candidates.
    """
    ranked = sorted(read, key=lambda item: -item[1].evidence)
    answers = [decoded for place, decoded in ranked if place.source != "text"]
    if not answers:
        top = ranked[0][1].recognition
        return Recognition(None, top.confidence, tuple(dict.fromkeys([*filter(None, [top.reading]), *top.candidates])))
    answer = answers[0]
    best = answer.recognition
    if best.reading is None:
        return best
    rivals = [decoded.recognition.reading for _, decoded in ranked
              if decoded is not answer and decoded.recognition.reading not in (None, best.reading)
              and decoded.evidence >= answer.evidence - margin]
    if rivals:
        return Recognition(None, best.confidence, tuple(dict.fromkeys([best.reading, *rivals, *best.candidates])))
    return best


def _spelling_score(frames: np.ndarray, table: np.ndarray, tail: float) -> np.ndarray:
    """log P(line | reading) when the line spells the reading exactly, or (prior `tail`) the reading and more."""
    if not tail:
        return spelling_log_likelihood(frames, table)
    exact, started = spelling_log_likelihoods(frames, table)
    return np.logaddexp(exact + math.log(1.0 - tail), started + math.log(tail))


def _text(windows: list[Allowed], starts: np.ndarray, index: int) -> str:
    """Reading `index` of the windows' readings laid end to end (window k's start at starts[k])."""
    k = int(np.searchsorted(starts, index, side="right")) - 1
    return windows[k].text(index - int(starts[k]))
