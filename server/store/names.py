"""Random run names in MLflow's "adjective-noun-NNN" style, from our own short word lists."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "amber",
    "brave",
    "calm",
    "clever",
    "crisp",
    "daring",
    "eager",
    "fancy",
    "gentle",
    "glossy",
    "honest",
    "jolly",
    "keen",
    "lively",
    "lucky",
    "merry",
    "mighty",
    "nimble",
    "noble",
    "plucky",
    "polite",
    "proud",
    "quick",
    "quiet",
    "rapid",
    "serene",
    "shiny",
    "silent",
    "smooth",
    "snappy",
    "steady",
    "sunny",
    "swift",
    "tidy",
    "vivid",
    "warm",
    "witty",
    "zesty",
)
_NOUNS = (
    "badger",
    "beacon",
    "bison",
    "comet",
    "crane",
    "dolphin",
    "falcon",
    "fern",
    "finch",
    "fox",
    "gecko",
    "harbor",
    "heron",
    "ibis",
    "koala",
    "lark",
    "lynx",
    "maple",
    "meadow",
    "moose",
    "newt",
    "orca",
    "otter",
    "owl",
    "panda",
    "pebble",
    "quail",
    "raven",
    "river",
    "robin",
    "salmon",
    "sparrow",
    "spruce",
    "tiger",
    "trout",
    "walrus",
    "willow",
    "yak",
)


def random_run_name(max_length: int = 20) -> str:
    """As 2.7.1 draws them: the number is 0..1000 inclusive, and a name longer than
    max_length is drawn again (ten tries) and then cut."""
    name = ""
    for _ in range(10):
        name = f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randint(0, 1000)}"
        if len(name) <= max_length:
            return name
    return name[:max_length]
