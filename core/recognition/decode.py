"""Choosing the plausible reading from per-digit probabilities and what billing already knows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.recognition import Recognition

# Readings a bill may cover: from the previous reading up to MAX_USE kWh. A household uses a few
# hundred kWh a month and submits every one to three months, so any use up to USUAL_USE is
# equally likely and more is ever less likely (halving every USE_FALLOFF * ln 2 kWh).
MAX_USE = 6000
USUAL_USE = 1000
USE_FALLOFF = 700.0
# Prior weight of "the counter shows something outside that window" (a replaced meter, a wrong
# previous reading, a photo of another meter): it keeps the window from forcing a reading.
OUTSIDE_WINDOW_PRIOR = 0.02
ACCEPT_CONFIDENCE = 0.995  # set on development sets (seed 7) for at most 2% wrong readings with margin
# How alike two cells showing the same digit look, against two showing different digits:
# log-likelihood ratio ~ PAIR_SLOPE * (similarity - PAIR_THRESHOLD), damped by PAIR_WEIGHT
# because the pairs of one counter are not independent evidence.
PAIR_SLOPE = 17.0
PAIR_THRESHOLD = 0.62
PAIR_WEIGHT = 0.5


@dataclass(frozen=True)
class Decoded:
    recognition: Recognition
    evidence: float  # mean log-probability of the chosen digits: compares alternative crops


def decode(
    probs: np.ndarray,
    previous: int | None,
    accept: float = ACCEPT_CONFIDENCE,
    similarity: np.ndarray | None = None,
    weight: float = PAIR_WEIGHT,
) -> Decoded:
    """Best reading for digit probabilities (digits x 10), None when it is not clearly the one.

    similarity (digits x digits, 0..1) says how alike two cells look: the drums of one meter share
    a font, so a reading that gives two alike cells the same digit is more plausible.
    """
    digits = probs.shape[0]
    logp = np.log(np.clip(probs, 1e-6, 1.0))
    free_digits = logp.argmax(axis=1)
    free_score = float(logp.max(axis=1).sum())
    if previous is None or previous >= 10**digits:
        reading = "".join(str(d) for d in free_digits)
        confidence = float(np.exp(free_score))
        return result(reading, confidence, (), accept, free_score / digits)
    allowed = Allowed.after(previous, digits)
    table = allowed.table
    likelihood = logp[np.arange(digits)[None, :], table].sum(axis=1)
    if similarity is not None:
        upper = np.triu(np.ones((digits, digits), dtype=bool), 1)
        evidence = np.where(upper, PAIR_SLOPE * (similarity - PAIR_THRESHOLD), 0.0)
        same = table[:, :, None] == table[:, None, :]
        likelihood = likelihood + weight * (same * evidence[None]).sum(axis=(1, 2))
    top, confidence = posterior(likelihood + allowed.prior, [outside_log_prior(digits)])
    texts = tuple(allowed.text(i) for i in top)
    return result(texts[0], confidence, texts[1:], accept, float(likelihood[top[0]]) / digits)


@dataclass(frozen=True)
class Allowed:
    """The readings a counter of `digits` digits may show after the previous one, with their log prior."""

    digits: int
    values: np.ndarray  # readings
    table: np.ndarray  # readings x digits
    prior: np.ndarray  # log-probability of each reading

    @classmethod
    def after(cls, previous: int, digits: int) -> Allowed:
        use = np.arange(min(MAX_USE, 10**digits - 1) + 1)
        values = (previous + use) % 10**digits
        places = 10 ** np.arange(digits - 1, -1, -1)
        prior = -np.maximum(use - USUAL_USE, 0) / USE_FALLOFF
        return cls(digits, values, (values[:, None] // places[None, :]) % 10, prior - np.log(np.exp(prior).sum()))

    def text(self, index: int) -> str:
        return str(int(self.values[index])).zfill(self.digits)


def outside_log_prior(digits: int) -> float:
    """Log prior of one value under "the counter shows something outside the window" (spread over all 10^digits)."""
    return float(np.log(OUTSIDE_WINDOW_PRIOR) - digits * np.log(10.0))


def posterior(score: np.ndarray, outside: list[float]) -> tuple[np.ndarray, float]:
    """The four best-scored readings and the posterior of the best, beside the outside hypotheses.

    score: log prior plus log likelihood of each reading; outside: log prior times likelihood of each
    outside hypothesis (its likelihoods over all values sum to one).
    """
    top = np.argsort(-score)[:4]
    peak = max(float(score[top[0]]), *outside)
    total = np.exp(score - peak).sum() + sum(np.exp(o - peak) for o in outside)
    return top, float(np.exp(score[top[0]] - peak) / total)


def result(reading: str, confidence: float, others: tuple[str, ...], accept: float, evidence: float) -> Decoded:
    """The reading when its confidence reaches `accept`, else "not sure" with it first among the candidates."""
    confidence = min(max(confidence, 0.0), 1.0)
    if confidence < accept:
        return Decoded(Recognition(None, confidence, (reading, *others)), evidence)
    return Decoded(Recognition(reading, confidence, others), evidence)
