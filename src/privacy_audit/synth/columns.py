"""Vectorized column builders: numpy arrays in, Arrow arrays of the contract's types out.

Millions of identifiers, hashes, IP addresses and amounts are built with array operations; no
Python code runs once per row. Faker only fills the pools these builders sample from.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from privacy_audit.synth.timeline import NEVER

_HEX = pa.array([f"{i:x}" for i in range(65_536)], pa.string())
_OCTET = pa.array([str(i) for i in range(256)], pa.string())
BASE64 = np.frombuffer(b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", np.uint8)
DIGITS = np.frombuffer(b"0123456789", np.uint8)
LETTERS = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", np.uint8)
HEXDIGITS = np.frombuffer(b"0123456789abcdef", np.uint8)


def join(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    """Concatenate string arrays and literals element-wise (NULL in, NULL out)."""
    return pc.binary_join_element_wise(*parts, sep)


def ids(prefix: str, start: int, n: int, width: int = 9) -> pa.Array:
    """``prefix`` + a zero-padded running number: opaque, unique, sortable identifiers."""
    return labels(prefix, np.arange(start, start + n, dtype=np.int64), width)


def labels(prefix: str, numbers: np.ndarray, width: int = 9) -> pa.Array:
    """The identifiers ``ids`` gives to the given running numbers.

    Written digit by digit into one byte matrix, which becomes the string array's data buffer
    as it is: hundreds of millions of identifiers at 10M contacts, so no per-value formatting.
    """
    numbers = np.asarray(numbers, dtype=np.int64)
    if len(numbers) and (numbers.min() < 0 or numbers.max() >= 10**width):
        raise ValueError(f"{prefix} identifiers: running numbers do not fit in {width} digits")
    head = np.frombuffer(prefix.encode(), np.uint8)
    codes = np.empty((len(numbers), len(head) + width), np.uint8)
    codes[:, : len(head)] = head
    rest = numbers.astype(np.uint32 if width < 10 else np.uint64)
    for place in range(len(head) + width - 1, len(head) - 1, -1):
        quotient = rest // 10
        codes[:, place] = rest - quotient * 10 + 48
        rest = quotient
    return fixed_width(codes)


def fixed_width(codes: np.ndarray) -> pa.Array:
    """Each row of an ASCII byte matrix as one string, the matrix itself being the data buffer."""
    n, width = codes.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(codes)))


def coded(options: pa.Array, index: np.ndarray, empty: np.ndarray | None = None) -> pa.Array:
    """Rows as codes into a few ``options`` (dictionary-encoded), NULL where ``empty``.

    No string is copied per row, and the Parquet writer stores the codes as its dictionary
    page and indices directly, without hashing millions of repeated values.
    """
    indices = pa.array(np.asarray(index, dtype=np.int32), pa.int32(), mask=empty)
    return pa.DictionaryArray.from_arrays(indices, options)


def nulls_where(values: pa.Array, empty: np.ndarray) -> pa.Array:
    """``values`` with NULL wherever ``empty`` is true (how erasure looks in an export)."""
    if not empty.any():
        return values
    return pc.if_else(pa.array(~empty), values, pa.scalar(None, values.type))


def codes(column: pa.ChunkedArray, options: tuple[str, ...]) -> np.ndarray:
    """Each value of a text column as its position in ``options`` (-1: another value or NULL)."""
    values = column.combine_chunks()
    if pa.types.is_dictionary(values.type):
        positions = pc.fill_null(pc.index_in(values.dictionary, value_set=strings(list(options))), -1)
        found = positions.to_numpy()[pc.fill_null(values.indices, 0).to_numpy()]
        return np.where(values.is_valid().to_numpy(zero_copy_only=False), found, -1)
    return pc.fill_null(pc.index_in(values, value_set=strings(list(options))), -1).to_numpy()


def pick(pool: pa.Array, index: np.ndarray, empty: np.ndarray | None = None) -> pa.Array:
    """Rows sampled from a pool by index, NULL where ``empty``."""
    taken = pool.take(pa.array(index, pa.int64()))
    return taken if empty is None else nulls_where(taken, empty)


def timestamps(t: np.ndarray, empty: np.ndarray | None = None) -> pa.Array:
    """Epoch seconds as ``timestamp[us]``; ``NEVER`` (or ``empty``) becomes NULL."""
    t = np.asarray(t, dtype=np.int64)
    mask = t == NEVER if empty is None else (empty | (t == NEVER))
    return pa.array(np.where(mask, 0, t) * 1_000_000, pa.timestamp("us"), mask=mask)


def dates(day: np.ndarray, empty: np.ndarray | None = None) -> pa.Array:
    """Day numbers since 1970 as ``date32``."""
    return pa.array(np.asarray(day, dtype=np.int32), pa.date32(), mask=empty)


def money(cents: np.ndarray) -> pa.Array:
    """Integer cents as ``decimal128(18, 2)``, exactly: the unscaled value is the cents."""
    cents = np.asarray(cents, dtype=np.int64)
    words = np.empty((len(cents), 2), np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    return pa.Array.from_buffers(pa.decimal128(18, 2), len(cents), [None, pa.py_buffer(words.tobytes())])


def random_text(n: int, length: int, alphabet: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """``n`` random strings of ``length`` characters from ``alphabet`` (salts, digests, digits)."""
    return fixed_width(alphabet[rng.integers(0, len(alphabet), (n, length))])


def pattern(template: str, n: int, rng: np.random.Generator) -> pa.Array:
    """Fill ``#`` with digits and ``?`` with capital letters: tax ids, VAT numbers, postcodes."""
    codes = np.tile(np.frombuffer(template.encode(), np.uint8), (n, 1))
    for mark, alphabet in ((ord("#"), DIGITS), (ord("?"), LETTERS)):
        where = codes == mark
        codes[where] = alphabet[rng.integers(0, len(alphabet), int(where.sum()))]
    return fixed_width(codes)


def ipv4(n: int, rng: np.random.Generator, only: np.ndarray | None = None) -> pa.Array:
    """Public-looking IPv4 addresses (first octets of large ISP ranges, never private).

    Draws for ``n`` rows; with ``only`` (a mask) the text is built for those rows alone.
    """
    first = np.array(
        [
            31,
            37,
            46,
            62,
            77,
            78,
            79,
            80,
            81,
            82,
            84,
            86,
            88,
            90,
            92,
            94,
            109,
            151,
            176,
            178,
            185,
            188,
            193,
            194,
            195,
            203,
            212,
            213,
            217,
        ]
    )
    octets = [first[rng.integers(0, len(first), n)], *(rng.integers(0, 256, n) for _ in range(2))]
    octets.append(rng.integers(1, 255, n))
    return join(*(pick(_OCTET, o if only is None else o[only]) for o in octets), sep=".")


def ipv6(n: int, rng: np.random.Generator, only: np.ndarray | None = None) -> pa.Array:
    """Global-unicast IPv6 addresses in the full eight-group form (``only``: as for ``ipv4``)."""
    groups = [rng.integers(0x2001, 0x2A10, n), *(rng.integers(0, 65_536, n) for _ in range(7))]
    return join(*(pick(_HEX, g if only is None else g[only]) for g in groups), sep=":")


def choice(options: list[str], n: int, rng: np.random.Generator, p: list[float] | None = None) -> np.ndarray:
    """Indices into ``options`` drawn with probabilities ``p`` (normalized)."""
    weights = None if p is None else np.asarray(p, dtype=float) / sum(p)
    return rng.choice(len(options), n, p=weights)


def strings(options: list[str]) -> pa.Array:
    """A small list of options as an Arrow pool to ``pick`` from."""
    return pa.array(options, pa.string())
