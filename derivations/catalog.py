"""The registry: one ``Topic`` per catalog entry, listed explicitly, in the spec's order.

The app and the exporters read only this module; adding a layer means one
module in ``layers/``, one in ``derivations/`` and one line here.
"""

from __future__ import annotations

from derivations import batchnorm, conv, lstm, pool, rnn
from derivations.topic import Config, Topic

TOPICS: dict[str, Topic] = {
    topic.key: topic
    for topic in (
        batchnorm.TOPIC,
        conv.TOPIC,
        pool.TOPIC,
        rnn.STEP_TOPIC,
        rnn.SEQUENCE_TOPIC,
        lstm.STEP_TOPIC,
        lstm.SEQUENCE_TOPIC,
    )
}


def topic(key: str) -> Topic:
    """The topic called ``key``; ValueError listing the valid keys otherwise."""
    if key not in TOPICS:
        raise ValueError(f"layer={key!r} is not a topic; choose one of {', '.join(TOPICS)}")
    return TOPICS[key]


def default_config(key: str, seed: int = 0) -> Config:
    return topic(key).default_config(seed)
