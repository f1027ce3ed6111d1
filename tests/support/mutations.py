"""Bad input for the webhooks, drawn by hypothesis: any JSON value, and real updates mutated."""
from __future__ import annotations

import copy

from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
odd_values = st.one_of(
    json_values,
    st.sampled_from([None, "", 0, -1, 2**63, 2**70, "x" * 5000, "\x00", "/start", "/reading 12500", "cmd:balance",
                     "unlink:999999", "consent:yes", [], {}, True, 1.5, "\ud7ff", "🙂" * 100]),
)


def paths(value, prefix=()):
    """Every place in a JSON document: (path, value)."""
    yield prefix, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, prefix + (index,))


@st.composite
def mutated(draw, documents: list[dict]) -> dict:
    document = copy.deepcopy(draw(st.sampled_from(documents)))
    for _ in range(draw(st.integers(1, 4))):
        places = [path for path, _ in paths(document) if path]
        if not places:
            break
        path = draw(st.sampled_from(places))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(odd_values)
    return document
