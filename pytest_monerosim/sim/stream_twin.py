"""The compiled twin of the peer lists' sample draws: whether it may run here, and loading it.

:func:`.peers.sample` and :func:`.peers.sample_draws` draw from a node's ``random.Random`` exactly
what ``Random.sample`` would (a peer-list answer costs about 350 ``getrandbits`` calls, ~10 us in
Python, and a 1,000-node day makes millions of them). :mod:`.stream_nb` runs the same draws
compiled, on the ``random.Random`` object's own generator state, so the object stays the single
owner of its stream and a run gives identical results with or without the twin. Writing into an
object's memory is only safe when the object is laid out as the kernels expect, so the twin is
used only when all of these hold (else :func:`load` gives None and the pure loops run):

* ``MONEROSIM_RNG_KERNEL`` is not ``python`` (the switch to force the pure loops; ``numba``
  asks for the twin at the first call, to check it on small runs);
* the interpreter is CPython and ``_random.Random``'s C struct has the size of ``PyObject_HEAD``,
  an ``int index`` and ``uint32_t state[624]`` (``Modules/_randommodule.c``), padded to pointer
  alignment; the header's size is read from ``object.__basicsize__``, not assumed;
* numba imports (``pip install 'pytest-monerosim[fast]'``);
* a self-check passes: seeded generators driven by the twin and by ``Random.sample`` itself, over
  many sizes and across the generator's 624-word regenerations, end in equal states and give
  equal picks. A mismatch warns once and keeps the pure loops.

The twin is loaded lazily (:class:`LazyTwin`): importing numba and loading the kernels costs time
and memory that a small run never earns back.
"""

from __future__ import annotations

import ctypes
import os
import random
import sys
import warnings
from collections.abc import Callable
from typing import Any, Generic, TypeVar

ENV = "MONEROSIM_RNG_KERNEL"
"""``python`` forces the pure loops (read when the twin is asked for); ``numba`` asks for the twin
at the first call instead of after :data:`LOAD_AFTER` (see :class:`LazyTwin`)."""
STATE_WORDS = 624
"""MT19937's state: 624 32-bit words."""
INT_BYTES = 4
"""``sizeof(int)`` of the struct's ``index`` field, which the ``state`` array follows."""
T = TypeVar("T")
MAX_BOUND = 1 << 32
"""The kernels draw ``getrandbits(b)`` for ``b <= 32`` only: population sizes below this."""

LOAD_AFTER = 100_000
"""Pure calls (of both functions, per process) before the twin is asked for.

Measured on the 2-core development machine (Python 3.11, numba 0.68): importing numba costs
~0.2 s CPU and ~100 MB RSS (numpy already loaded), loading the cached kernels and the
self-check ~0.3 s and ~50 MB more (compiling them the first time, ~1.3 s); in a run, a
``sample_draws`` call (250 out of 300) takes ~2 us through the twin against ~10.5 us pure. So
the twin pays back its CPU after ~60,000 calls, and its memory never. At 100,000 (about a
second of pure draws) the fixture scenarios never load it (most make no such call at all: no
white list passes the 250 entries a node advertises; ``large_relays`` makes a few hundred), nor
does the 10,000-node benchmark (1 h, ~9,500 calls; loaded from the first call, its peak RSS is
2,263 MB against 2,117), while the 1,000-node benchmark (16 h, ~1.4 M calls) and the large
transactions benchmark switch early on. Results are identical either way, so when the switch
happens does not matter."""


class StreamTwin:
    """The compiled draws, bound to the offset of the ``index`` field in a ``random.Random``."""

    __slots__ = ("_draws", "_picks", "offset")

    def __init__(self, draws: Callable[[int, int, int], None],
                 picks: Callable[[int, int, int], Any], offset: int) -> None:
        self._draws = draws
        self._picks = picks
        self.offset = offset

    def draws(self, rng: random.Random, n: int, k: int) -> None:
        """Advance ``rng`` as ``rng.sample`` of ``k`` out of ``n`` would (``0 < k <= n <= 3k``,
        ``n < MAX_BOUND``, ``type(rng) is random.Random``: the caller checks)."""
        self._draws(id(rng) + self.offset, n, k)

    def picks(self, rng: random.Random, n: int, k: int) -> list[int]:
        """The positions ``rng.sample`` of ``k`` out of ``n`` items picks, in order (same
        conditions as :meth:`draws`)."""
        return self.pick_array(rng, n, k).tolist()

    def pick_array(self, rng: random.Random, n: int, k: int) -> Any:
        """:meth:`picks` as the kernel's array (to index an array of ids with)."""
        return self._picks(id(rng) + self.offset, n, k)


def index_offset() -> int | None:
    """Where a ``random.Random``'s ``index`` field is (bytes from the object's address), or None
    when this interpreter's generator struct is not the one the kernels know."""
    if sys.implementation.name != "cpython" or ctypes.sizeof(ctypes.c_int) != INT_BYTES:
        return None
    try:
        import _random
    except ImportError:
        return None
    if not issubclass(random.Random, _random.Random):
        return None
    header = object.__basicsize__
    fields = header + INT_BYTES + 4 * STATE_WORDS
    align = ctypes.alignment(ctypes.c_void_p)  # the header's pointers set the struct's alignment
    if _random.Random.__basicsize__ != -(-fields // align) * align:
        return None
    return header


def load(eager: bool = False) -> StreamTwin | None:
    """The twin, or None when it may not be used here (see the module's docstring). A failed
    self-check warns; with ``eager`` (the twin was asked for by name), any reason but the
    switch itself does."""
    return load_checked(ENV, _build, self_check, eager,
                        "the compiled sample draws are not used ({why}); the pure-Python draws "
                        "run instead (same results, slower)")


def _build() -> StreamTwin | str:
    """The twin, unchecked, or why it cannot be built here."""
    offset = index_offset()
    if offset is None:
        return "random.Random is not CPython's 624-word struct here"
    try:
        from . import stream_nb
    except ImportError:
        return "numba is not installed (pip install 'pytest-monerosim[fast]')"
    return StreamTwin(stream_nb.sample_draws_nb, stream_nb.sample_nb, offset)


def load_checked(env: str, build: Callable[[], T | str], check: Callable[[T], str | None],
                 eager: bool, warning: str) -> T | None:
    """A compiled kernel (this twin, :mod:`.gray_kernel`'s merge), or None: when the switch
    ``env`` is ``python``, when ``build`` says why not (a string), or when ``check`` (its
    self-check, None if all is well) finds a difference. A failed self-check warns
    (``warning``, formatted with ``why``); with ``eager``, any reason but the switch does."""
    if os.environ.get(env, "").lower() == "python":
        return None
    kernel = build()
    if isinstance(kernel, str):
        why = kernel
    else:
        try:
            problem = check(kernel)
        except Exception as exc:  # a numba that cannot compile the kernels
            problem = f"{type(exc).__name__}: {exc}"
        if not problem:
            return kernel
        why = f"self-check: {problem}"
    if eager or why.startswith("self-check"):
        warnings.warn(warning.format(why=why), RuntimeWarning, stacklevel=4)
    return None


CHECK_SIZES = ((1, 1), (2, 1), (3, 1), (2, 2), (6, 5), (15, 5), (7, 6), (18, 6), (31, 16), (32, 16),
               (33, 16), (64, 63), (65, 64), (129, 64), (250, 250), (300, 250), (301, 251),
               (750, 250), (600, 500), (1200, 1000), (1023, 1000), (1025, 1024))
"""``(n, k)`` pairs of the self-check: both ends of the range ``k <= n <= 3k``, sizes either side
of powers of two (where ``getrandbits``'s width changes) and the peer lists' own (250 of 300)."""


def self_check(twin: StreamTwin, seeds: range = range(3)) -> str | None:
    """None if ``twin`` and ``random.Random.sample`` agree, else what differed first.

    For each seed and size, two equal generators are put a few words before a regeneration of
    their state (``getrandbits(32)`` until the position is 620..623, so the kernels' draws cross
    it), then one draws through the twin and the other through ``Random.sample``; then the same
    again for the picks. States are compared after every step.
    """
    for seed in seeds:
        ours, theirs = random.Random(seed), random.Random(seed)
        for n, k in CHECK_SIZES:
            population = list(range(n))
            near = 620 + (n + k + seed) % 4
            for step in ("draws", "picks"):
                _advance_to(ours, near)
                _advance_to(theirs, near)
                if step == "draws":
                    twin.draws(ours, n, k)
                    theirs.sample(population, k)
                else:
                    got, want = twin.picks(ours, n, k), theirs.sample(population, k)
                    if got != want:
                        return f"seed {seed}: picks of {k} out of {n} differ"
                if ours.getstate() != theirs.getstate():
                    return f"seed {seed}: state after {step} of {k} out of {n} differs"
    return None


def _advance_to(rng: random.Random, position: int) -> None:
    """Draw 32-bit words until the generator's position in its state is ``position`` (1..623;
    the position runs 1..624 and the draw after 624 regenerates the state)."""
    for _ in range((position - rng.getstate()[1][-1]) % STATE_WORDS):
        rng.getrandbits(32)


class LazyTwin(Generic[T]):
    """A compiled twin of the process, asked for when :meth:`count` has been called ``after``
    times: by default the sample draws' (:func:`load`, switched by :data:`ENV`), or another
    kernel's ``loader``, switch and default wait (:mod:`.gray_kernel`).

    ``twin`` is None until then (and after, if the loader gives None). ``after`` defaults to
    ``wait`` (:data:`LOAD_AFTER` for the sample draws), or to 1 when the switch ``env`` is
    ``numba`` (read when this is made, i.e. when the simulator is imported): the twin from the
    first call, which warns if it cannot load. :meth:`set` pins it (tests compare runs with and
    without it)."""

    __slots__ = ("twin", "_left", "_eager", "_loader")

    def __init__(self, after: int | None = None,
                 loader: Callable[[bool], T | None] = load,  # type: ignore[assignment]
                 env: str = ENV, wait: int = LOAD_AFTER) -> None:
        self._eager = after is None and os.environ.get(env, "").lower() == "numba"
        self._loader = loader
        self.twin: T | None = None
        self._left = 1 if self._eager else after if after is not None else wait

    def count(self) -> None:
        """One pure call: ask for the twin once enough were made."""
        self._left -= 1
        if self._left == 0:
            self.twin = self._loader(self._eager)

    def set(self, twin: T | None) -> None:
        """Use ``twin`` (None: the pure loops) from now on, and stop counting."""
        self.twin = twin
        self._left = -1


STREAMS: LazyTwin[StreamTwin] = LazyTwin()
"""The one :class:`LazyTwin` of the process, which :mod:`.peers` asks."""
