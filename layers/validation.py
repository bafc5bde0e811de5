"""Input checks shared by every layer.

Each check raises ``ValueError`` whose message names the offending argument and
value and says what would be valid, so that the library, the exporters and the
app can show one clear sentence instead of a NumPy broadcasting surprise.

Non-finite values (nan, inf) are *not* rejected: they propagate through the
arithmetic exactly as NumPy defines, which is what a student probing a layer
expects to see.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np


def as_float_array(name: str, value, ndim: int, dim_names: str) -> np.ndarray:
    """Return ``value`` as a float64 array of ``ndim`` axes with no empty axis.

    ``dim_names`` spells the expected axes (``"(N, D)"``) for the message.
    The input is never modified: a float64 array comes back as a read view,
    anything else as a new float64 copy.
    """
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array {dim_names}; got {value!r:.80}") from exc
    if array.ndim != ndim:
        raise ValueError(
            f"{name} must have {ndim} axes {dim_names}; got shape {array.shape}"
        )
    if 0 in array.shape:
        raise ValueError(f"{name} has an empty axis: shape {array.shape}, expected {dim_names} all >= 1")
    return array


def require_shape(name: str, array: np.ndarray, expected: Sequence[int], dim_names: str) -> None:
    """Raise unless ``array.shape`` equals ``expected`` exactly (no broadcasting)."""
    if tuple(array.shape) != tuple(expected):
        raise ValueError(
            f"{name} has shape {tuple(array.shape)}; expected {dim_names} = {tuple(expected)}"
        )


def positive_int(name: str, value, context: str = "") -> int:
    """Return ``value`` as int if it is a whole number >= 1."""
    return _whole_number(name, value, minimum=1, context=context)


def nonnegative_int(name: str, value, context: str = "") -> int:
    """Return ``value`` as int if it is a whole number >= 0."""
    return _whole_number(name, value, minimum=0, context=context)


def _whole_number(name: str, value, minimum: int, context: str) -> int:
    where = f" in {context}" if context else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}={value!r}{where} must be a whole number >= {minimum}")
    if not float(value).is_integer():
        raise ValueError(f"{name}={value!r}{where} must be a whole number >= {minimum}")
    if value < minimum:
        raise ValueError(f"{name}={value!r}{where} must be >= {minimum}")
    return int(value)


def positive_float(name: str, value, context: str = "") -> float:
    """Return ``value`` as float if it is a finite number > 0."""
    where = f" in {context}" if context else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name}={value!r}{where} must be a finite number > 0")
    if value <= 0:
        raise ValueError(f"{name}={value!r}{where} must be > 0")
    return float(value)


def unit_interval(name: str, value, context: str = "") -> float:
    """Return ``value`` as float if it lies in the closed interval [0, 1]."""
    where = f" in {context}" if context else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}={value!r}{where} must be a number in [0, 1]")
    return float(value)


def require_mapping(name: str, value) -> Mapping:
    """Raise unless ``value`` is a dict-like parameter bag (``bn_param``, ``conv_param``...)."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a dict; got {type(value).__name__} {value!r:.60}")
    return value


def require_key(name: str, params: Mapping, key: str):
    """Return ``params[key]``, raising a ValueError (not KeyError) when it is missing."""
    if key not in params:
        raise ValueError(f"{name} is missing the key {key!r}; it has {sorted(params)}")
    return params[key]


def sliding_output_size(
    axis: str, size: int, window: int, stride: int, pad: int, window_name: str
) -> int:
    """Output length ``1 + (size + 2*pad - window) / stride`` along one axis.

    Raises when the window does not fit the padded input or when the stride
    does not divide the remaining length, naming every value involved.
    """
    padded = size + 2 * pad
    if window > padded:
        where = f"the padded input {axis} + 2*pad = {size} + 2*{pad} = {padded}" if pad else f"the input {axis}={size}"
        raise ValueError(f"{window_name}={window} is larger than {where}")
    span = padded - window
    if span % stride != 0:
        raise ValueError(
            f"pad={pad}, stride={stride}: ({axis} + 2*pad - {window_name}) = "
            f"({size} + 2*{pad} - {window}) = {span} is not divisible by stride={stride}"
        )
    return 1 + span // stride


def recurrent_inputs(x, x_ndim: int, Wx, Wh, b, gates: int):
    """Check the input and weights of a recurrent layer with ``gates`` blocks of H columns.

    ``gates`` is 1 for the vanilla RNN and 4 for the LSTM (blocks i, f, o, g).
    Expects x (N, D) when ``x_ndim`` is 2 or (N, T, D) when 3, Wx (D, gates*H),
    Wh (H, gates*H) and b (gates*H,); H is read from the columns of Wx, so a Wh or
    b that disagrees is reported together with Wx. Returns (x, Wx, Wh, b) as float64.
    """
    block = "H" if gates == 1 else f"{gates}H"
    x = as_float_array("x", x, x_ndim, "(N, D)" if x_ndim == 2 else "(N, T, D)")
    Wx = as_float_array("Wx", Wx, 2, f"(D, {block})")
    Wh = as_float_array("Wh", Wh, 2, f"(H, {block})")
    b = as_float_array("b", b, 1, f"({block},)")
    if x.shape[-1] != Wx.shape[0]:
        raise ValueError(
            f"x has shape {x.shape} with D = {x.shape[-1]}, but Wx has shape {Wx.shape} "
            f"with D = {Wx.shape[0]} rows; expected Wx of shape (D, {block})"
        )
    columns = Wx.shape[1]
    if columns % gates != 0:
        raise ValueError(
            f"Wx has shape {Wx.shape}: its {columns} columns are not a multiple of {gates}; "
            f"expected (D, {block}), one block of H columns per gate"
        )
    hidden = columns // gates
    if Wh.shape != (hidden, columns):
        raise ValueError(
            f"Wh has shape {Wh.shape}; expected (H, {block}) = {(hidden, columns)}, "
            f"with H = {hidden} from Wx of shape {Wx.shape}"
        )
    require_shape("b", b, (columns,), f"({block},)")
    return x, Wx, Wh, b


def array_of_shape(name: str, value, expected: Sequence[int], dim_names: str) -> np.ndarray:
    """``as_float_array`` followed by ``require_shape``: a float64 array of exactly ``expected``."""
    array = as_float_array(name, value, len(expected), dim_names)
    require_shape(name, array, expected, dim_names)
    return array


def require_cache(cache, cache_type: type, producer: str) -> None:
    """Raise unless ``cache`` is the ``cache_type`` NamedTuple that ``producer`` returns."""
    if not isinstance(cache, cache_type):
        raise ValueError(
            f"cache must be the {cache_type.__name__} returned by {producer}; "
            f"got {type(cache).__name__}"
        )
