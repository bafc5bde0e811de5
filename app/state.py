"""The app's whole state as URL query parameters and back; pure, testable without streamlit.

A link such as ``?layer=<key>&N=2&C=3&stride=2&seed=0`` names the topic, every field
of it by name, the seed, the implementation and lecture mode (``present=1``). Reading a
link never raises: each bad value is replaced by its default and reported in
``UrlState.errors`` with a sentence naming the value and what would be valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from derivations.topic import Config, Field, Topic, Value

SEED_LIMIT = 2**32  # numpy's default_rng accepts seeds in 0 .. 2**32 - 1 here
PRESENT_ON = ("1", "true", "yes", "on")
PRESENT_OFF = ("0", "false", "no", "off", "")
RESERVED = ("layer", "seed", "impl", "present")


@dataclass(frozen=True)
class UrlState:
    """What a link asks for, with every value already valid.

    - layer: a key of the catalog; values: every field of that topic by name.
    - errors: one sentence per rejected value (the default took its place).
    - ignored: parameter names that are not fields of the topic.
    """

    layer: str
    values: Mapping[str, Value]
    seed: int
    impl: str
    present: bool
    errors: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()


def describe_field(field: Field) -> str:
    """What a field accepts, in words: ``"N must be a whole number from 1 to 64"``."""
    if field.kind == "choice":
        return f"{field.name} must be one of {', '.join(field.choices)}"
    kind = "a whole number" if field.kind == "int" else "a number"
    low = "-inf" if field.low is None else f"{field.low:g}"
    high = "inf" if field.high is None else f"{field.high:g}"
    return f"{field.name} must be {kind} from {low} to {high}"


def parse_field(field: Field, raw: object) -> Value:
    """``field.parse`` with a message that always states the valid range (ValueError otherwise)."""
    try:
        return field.parse(raw)
    except ValueError as error:
        message = str(error)
        if field.kind != "choice" and describe_field(field) not in message:
            message = f"{field.name}={raw!r} is not valid; {describe_field(field)}"
        raise ValueError(message) from None
    except TypeError:  # bounds_text on a field without bounds
        raise ValueError(f"{field.name}={raw!r} is not valid; {describe_field(field)}") from None


def parse_seed(raw: object) -> int:
    """A seed from text; ValueError naming the value and the valid range."""
    text = str(raw).strip()
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"seed={raw!r} is not a number; seed must be a whole number from 0 to "
                         f"{SEED_LIMIT - 1}") from None
    if not number.is_integer() or not 0 <= number < SEED_LIMIT:
        raise ValueError(f"seed={raw!r} is not valid; seed must be a whole number from 0 to {SEED_LIMIT - 1}")
    return int(number)


def parse_present(raw: object) -> bool:
    text = str(raw).strip().lower()
    if text in PRESENT_ON:
        return True
    if text in PRESENT_OFF:
        return False
    raise ValueError(f"present={raw!r} is not valid; use present=1 (lecture mode) or present=0")


def read_url(params: Mapping[str, str], topics: Mapping[str, Topic]) -> UrlState:
    """The state a link asks for. ``params`` maps each query parameter to its (last) value.

    Unknown layer -> the first topic; bad field, seed, impl or present -> its default;
    each replacement is explained in ``errors``. Never raises.
    """
    errors: list[str] = []
    keys = list(topics)
    layer = str(params.get("layer", keys[0]))
    if layer not in topics:
        errors.append(f"layer={layer!r} is not a topic; choose one of {', '.join(keys)}. "
                      f"Showing {keys[0]} instead.")
        layer = keys[0]
    topic = topics[layer]
    values: dict[str, Value] = {}
    for field in topic.fields:
        values[field.name] = field.default
        if field.name in params:
            try:
                values[field.name] = parse_field(field, params[field.name])
            except ValueError as error:
                errors.append(f"{error}. Using the default {field.name}={field.default!r}.")
    seed = _or_default(parse_seed, params, "seed", 0, errors)
    present = _or_default(parse_present, params, "present", False, errors)
    impl = str(params.get("impl", topic.impls[0]))
    if impl not in topic.impls:
        errors.append(f"impl={impl!r} is not offered for {layer}; choose {', '.join(topic.impls)}. "
                      f"Using {topic.impls[0]}.")
        impl = topic.impls[0]
    known = {*RESERVED, *(field.name for field in topic.fields)}
    ignored = tuple(name for name in params if name not in known)
    return UrlState(layer, values, seed, impl, present, tuple(errors), ignored)


def _or_default(parse, params, name, default, errors):
    if name not in params:
        return default
    try:
        return parse(params[name])
    except ValueError as error:
        errors.append(f"{error}. Using the default {name}={default!r}.")
        return default


def format_value(value: Value) -> str:
    """URL text of a value that parses back to the same value (``1e-05``, ``0.9``, ``4``)."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    return str(value)


def config_params(config: Config, topic: Topic, present: bool = False) -> dict[str, str]:
    """The query parameters of a configuration: layer, every field, seed, impl (when there is a
    choice) and ``present=1`` in lecture mode."""
    params = {"layer": config.layer}
    params.update({name: format_value(value) for name, value in config.values})
    params["seed"] = str(config.seed)
    if len(topic.impls) > 1:
        params["impl"] = config.impl
    if present:
        params["present"] = "1"
    return params


def config_from_values(topic: Topic, values: Mapping[str, object], seed: object, impl: object) -> Config:
    """A Config from widget values; ValueError naming the first bad value and what is valid."""
    parsed = {field.name: parse_field(field, values[field.name])
              for field in topic.fields if field.name in values}
    return topic.config_from(parsed, parse_seed(seed), impl)
