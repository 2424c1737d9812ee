"""Mersenne Twister draws compiled with numba, run on a ``random.Random``'s own state in place.

Imported only by :mod:`.stream_twin` (the loader, which decides whether these kernels may be used
at all), and only when numba is there.

A CPython ``random.Random`` keeps its MT19937 generator in the C struct of ``_random.Random``
(``Modules/_randommodule.c``: ``PyObject_HEAD``, then ``int index``, then ``uint32_t state[624]``).
``getrandbits(k)`` for ``0 < k <= 32`` returns the next 32-bit output shifted right by ``32 - k``;
``Random.sample``'s pool branch draws each index with ``_randbelow_with_getrandbits`` (redraw
``getrandbits(m.bit_length())`` until it is below ``m``). The kernels below do the same on the
struct's memory, given the address of its ``index`` field (the ``state`` array follows it, 4
bytes on), so the Python object stays the only owner of its stream: whatever else draws from it
before or after sees exactly the state the pure-Python loops would have left.

The generator steps are written from the published algorithm (Matsumoto and Nishimura, "Mersenne
Twister: a 623-dimensionally equidistributed uniform pseudo-random number generator", ACM TOMACS
8(1), 1998): degree 624, middle word 397, twist matrix ``0x9908b0df``, tempering masks
``0x9d2c5680`` / ``0xefc60000``.

Kernels are compiled without ``nogil``: they write an object that other Python code reads, so
they must hold the GIL like any method of that object. Module-level, with ``cache=True``, so that
numba's on-disk cache serves them in the next process.
"""
# ruff: noqa: ANN001, ANN202

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import carray, njit, types
from numba.extending import intrinsic

N = 624
"""Words of state (the algorithm's degree; ``stream_twin.STATE_WORDS`` is the struct's, which the
loader checks). A literal, not imported: numba freezes globals into its on-disk cache."""
M = 397
"""The middle word of the twist."""

_MATRIX_A = np.uint32(0x9908B0DF)
_UPPER = np.uint32(0x80000000)
_LOWER = np.uint32(0x7FFFFFFF)
_TEMPER_B = np.uint32(0x9D2C5680)
_TEMPER_C = np.uint32(0xEFC60000)
_ONE = np.uint32(1)


def jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    try:  # compiled once per installation, into __pycache__ or numba's user-wide cache
        return njit(cache=True)(fn)
    except RuntimeError:  # nowhere writable to cache: compile in each process
        return njit(fn)


@intrinsic
def _words_at(typingctx, address):
    """A ``uint32*`` at the integer ``address`` (numba has no public cast from an integer)."""
    sig = types.CPointer(types.uint32)(address)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(types.CPointer(types.uint32)))

    return sig, codegen


@jit
def _mix(upper, lower, far):
    """One word of the twist: the top bit of ``upper`` and the low 31 of ``lower``, multiplied by
    the twist matrix, xored into ``far``."""
    y = (upper & _UPPER) | (lower & _LOWER)
    z = far ^ (y >> _ONE)
    if y & _ONE:
        z ^= _MATRIX_A
    return z


@jit
def _twist(state):
    """Regenerate all 624 words in place (word ``i`` from words ``i``, ``i + 1`` and ``i + 397``,
    indices mod 624, the wrapped ones already regenerated)."""
    for i in range(N - M):
        state[i] = _mix(state[i], state[i + 1], state[i + M])
    for i in range(N - M, N - 1):
        state[i] = _mix(state[i], state[i + 1], state[i + M - N])
    state[N - 1] = _mix(state[N - 1], state[0], state[M - 1])


@jit
def _next_word(state, i):
    """The tempered 32-bit output at position ``i`` of ``state`` (regenerated first when ``i`` has
    reached its end), and the position after it."""
    if i >= N:
        _twist(state)
        i = 0
    y = state[i]
    y ^= y >> np.uint32(11)
    y ^= (y << np.uint32(7)) & _TEMPER_B
    y ^= (y << np.uint32(15)) & _TEMPER_C
    y ^= y >> np.uint32(18)
    return y, i + 1


@jit
def _bit_length(v):
    """``int.bit_length`` of a positive ``v``."""
    bits = 0
    while v:
        bits += 1
        v >>= 1
    return bits


@jit
def _below(state, i, bound):
    """``_randbelow_with_getrandbits(bound)`` for ``1 <= bound < 2**32`` from position ``i``:
    ``getrandbits(b)`` with ``b = bound.bit_length()``, again until it is below ``bound``; and
    the position after it."""
    shift = np.uint32(32 - _bit_length(bound))
    while True:
        y, i = _next_word(state, i)
        r = np.int64(y >> shift)
        if r < bound:
            return r, i


@jit
def _struct(address):
    """Views of the struct whose ``index`` field is at ``address``: ``index`` (its one word; a
    C ``int`` holding 0..624, read as ``uint32``) and ``state`` (the 624 words after it)."""
    words = carray(_words_at(address), N + 1)
    return words[:1], words[1:]


@jit
def sample_draws_nb(address, n, k):
    """Draw what ``Random.sample`` of ``k`` out of ``n`` draws in its pool branch, and nothing
    else: for each bound ``m`` from ``n`` down to ``n - k + 1``, words until one (shifted to
    ``m``'s bit length) is below ``m``.

    One pass over the words, whose only data-dependent step is ``m -= accepted`` (no branch to
    mispredict on the ~40% of words a bound rejects); the shift grows by one whenever ``m`` falls
    below a power of two.
    """
    index, state = _struct(address)
    i = np.int64(index[0])  # kept in a register, written back once
    m = np.int64(n)
    stop = m - k
    bits = _bit_length(m)
    low = np.int64(1) << (bits - 1)  # m's bit length changes when m drops below this
    shift = np.uint32(32 - bits)
    while m > stop:
        y, i = _next_word(state, i)
        m -= np.int64(np.int64(y >> shift) < m)
        if m < low:
            low >>= 1
            shift += np.uint32(1)
    index[0] = i


@jit
def sample_nb(address, n, k):
    """The positions ``Random.sample`` of ``k`` out of ``n`` picks in its pool branch, in order:
    each pick takes a random slot of the pool and fills it with the pool's last item."""
    index, state = _struct(address)
    i = np.int64(index[0])
    pool = np.arange(n)
    picks = np.empty(k, dtype=np.int64)
    for taken in range(k):
        m = n - taken
        j, i = _below(state, i, m)
        picks[taken] = pool[j]
        pool[j] = pool[m - 1]
    index[0] = i
    return picks
