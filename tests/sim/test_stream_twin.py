"""The compiled twin of the peer lists' sample draws (``sim/stream_twin.py``, ``sim/stream_nb.py``)
draws exactly what ``random.Random.sample`` and the pure loops of ``sim/peers.py`` draw, leaves
the generator in the same state, and a whole run gives the same results with it and without it;
the loader falls back to the pure loops when it must."""

from __future__ import annotations

import ctypes
import random
import sys
import types
import warnings
from collections.abc import Iterator

import numpy as np
import pytest

from pytest_monerosim import sim
from pytest_monerosim.sim import peers, stream_twin
from pytest_monerosim.sim.stream_twin import ENV, LazyTwin, StreamTwin

from .conftest import compiled, make_registry

SIZES = [(1, 1), (2, 1), (3, 1), (5, 5), (15, 5), (7, 6), (18, 6), (31, 16), (48, 16), (63, 21),
         (64, 32), (65, 33), (127, 64), (128, 128), (250, 250), (300, 250), (301, 251), (750, 250),
         (1000, 999), (1200, 1000), (2048, 1024), (3072, 1024)]


@pytest.fixture
def twin(monkeypatch: pytest.MonkeyPatch) -> StreamTwin:
    return compiled(monkeypatch, ENV, stream_twin.load)


@pytest.fixture
def pure(monkeypatch: pytest.MonkeyPatch) -> None:
    """``peers``'s pure loops for the test (the process's twin pinned off)."""
    off = LazyTwin()
    off.set(None)
    monkeypatch.setattr(peers, "STREAMS", off)


def positions() -> Iterator[int]:
    """Starting positions in the generator's state: fresh, both ends, and just before a
    regeneration (so one call's draws cross it)."""
    yield from (0, 1, 300, 600, 620, 623, 624)


def at(seed: int, position: int) -> random.Random:
    """A generator seeded with ``seed`` whose position in its state is ``position``."""
    rng = random.Random(seed)
    version, words, gauss = rng.getstate()
    rng.setstate((version, words[:-1] + (position,), gauss))
    return rng


@pytest.mark.parametrize(("n", "k"), SIZES)
def test_draws_are_random_samples_and_the_pure_loops(twin: StreamTwin, pure: None, n: int, k: int) -> None:
    population = list(range(n))
    for seed in range(4):
        for position in positions():
            ours, theirs, loop = at(seed, position), at(seed, position), at(seed, position)
            for _ in range(3):  # repeated calls walk through several regenerations for big n
                twin.draws(ours, n, k)
                theirs.sample(population, k)
                peers.sample_draws(loop, n, k)
                assert ours.getstate() == theirs.getstate() == loop.getstate()
            assert ours.random() == theirs.random()


@pytest.mark.parametrize(("n", "k"), SIZES)
def test_picks_are_random_samples_and_the_pure_loops(twin: StreamTwin, pure: None, n: int, k: int) -> None:
    population = [f"10.0.{i // 256}.{i % 256}:18080" for i in range(n)]
    for seed in range(4):
        for position in positions():
            ours, theirs, loop = at(seed, position), at(seed, position), at(seed, position)
            for _ in range(3):
                picked = [population[i] for i in twin.picks(ours, n, k)]
                assert picked == theirs.sample(population, k) == peers.sample(loop, population, k)
                assert ours.getstate() == theirs.getstate() == loop.getstate()


def test_the_stream_is_shared_with_every_other_draw(twin: StreamTwin) -> None:
    """The twin writes the object's own state: draws by other methods before, between and after
    its calls see one stream, and so does a state saved and restored in between."""
    ours, theirs = random.Random(11), random.Random(11)
    population = list(range(300))
    for step in range(200):
        assert ours.random() == theirs.random()
        assert ours.randint(0, 10**9) == theirs.randint(0, 10**9)
        if step % 2:
            twin.draws(ours, 300, 250)
            theirs.sample(population, 250)
        else:
            assert twin.picks(ours, 300, 250) == theirs.sample(population, 250)
        if step == 100:
            saved = ours.getstate()
            ours.random()
            ours.setstate(saved)
    assert ours.getstate() == theirs.getstate()


def test_peers_use_the_twin_when_it_is_set(twin: StreamTwin, monkeypatch: pytest.MonkeyPatch) -> None:
    counting = CountingTwin(twin)
    on = LazyTwin()
    on.set(counting)  # type: ignore[arg-type]
    monkeypatch.setattr(peers, "STREAMS", on)
    population = [f"a{i}" for i in range(300)]
    ours, theirs = random.Random(5), random.Random(5)
    assert peers.sample(ours, population, 250) == theirs.sample(population, 250)
    peers.sample_draws(ours, 300, 250)
    theirs.sample(population, 250)
    assert ours.getstate() == theirs.getstate()
    # outside 0 < k <= n <= 3k, and for other generator types, rng.sample itself runs
    assert peers.sample(ours, population, 10) == theirs.sample(population, 10)
    sub = type("Sub", (random.Random,), {})
    assert peers.sample(sub(3), population, 250) == random.Random(3).sample(population, 250)
    ids = np.arange(1, 301, dtype=np.uint32)  # (the advertised head's pool: an array of ids)
    assert peers.sample_ids(ours, ids, 250).tolist() == theirs.sample(ids.tolist(), 250)
    assert counting.calls == {"draws": 1, "picks": 2}


class CountingTwin:
    """A twin that counts its calls (peers asks ``STREAMS.twin`` by duck type)."""

    def __init__(self, twin: StreamTwin) -> None:
        self.twin = twin
        self.calls = {"draws": 0, "picks": 0}

    def draws(self, rng: random.Random, n: int, k: int) -> None:
        self.calls["draws"] += 1
        self.twin.draws(rng, n, k)

    def picks(self, rng: random.Random, n: int, k: int) -> list[int]:
        self.calls["picks"] += 1
        return self.twin.picks(rng, n, k)

    def pick_array(self, rng: random.Random, n: int, k: int) -> np.ndarray:
        self.calls["picks"] += 1
        return self.twin.pick_array(rng, n, k)


# -- the loader ------------------------------------------------------------------------------

def test_the_switch_forces_the_pure_loops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "python")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert stream_twin.load() is None
        assert stream_twin.load(eager=True) is None  # asked for and switched off: no warning
        lazy = LazyTwin(after=2)
        lazy.count()
        lazy.count()
    assert lazy.twin is None


def test_the_twin_loads_after_enough_pure_calls(twin: StreamTwin, monkeypatch: pytest.MonkeyPatch) -> None:
    lazy = LazyTwin(after=3)
    lazy.count()
    lazy.count()
    assert lazy.twin is None
    lazy.count()
    assert isinstance(lazy.twin, StreamTwin)
    monkeypatch.setenv(ENV, "numba")
    eager = LazyTwin()
    eager.count()
    assert isinstance(eager.twin, StreamTwin)


def test_an_unknown_struct_layout_gives_no_twin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert stream_twin.index_offset() == object.__basicsize__  # this interpreter: CPython's struct
    monkeypatch.setattr(stream_twin, "STATE_WORDS", 2 * stream_twin.STATE_WORDS)
    assert stream_twin.index_offset() is None
    assert stream_twin.load() is None
    with pytest.warns(RuntimeWarning, match="not CPython's 624-word struct"):
        assert stream_twin.load(eager=True) is None


def test_missing_numba_gives_no_twin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.delitem(sys.modules, "pytest_monerosim.sim.stream_nb", raising=False)
    monkeypatch.delattr(sim, "stream_nb", raising=False)
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    assert stream_twin.load() is None
    monkeypatch.setenv(ENV, "numba")
    lazy = LazyTwin()
    with pytest.warns(RuntimeWarning, match="numba is not installed"):
        lazy.count()
    assert lazy.twin is None


def _object_at(address: int) -> random.Random:
    return ctypes.cast(address - object.__basicsize__, ctypes.py_object).value


def _wrong_at_regeneration(address: int, n: int, k: int) -> None:
    """Right draws, plus one word too many whenever they crossed a regeneration of the state."""
    rng = _object_at(address)
    before = rng.getstate()[1][-1]
    rng.sample(range(n), k)
    if rng.getstate()[1][-1] < before:
        rng.getrandbits(32)


def _right_draws(address: int, n: int, k: int) -> None:
    _object_at(address).sample(range(n), k)


def _right_picks(address: int, n: int, k: int) -> np.ndarray:
    return np.array(_object_at(address).sample(range(n), k))


def test_a_twin_wrong_only_across_a_regeneration_fails_the_self_check(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The self-check drives the kernels across the 624-word regeneration: a twin that is right
    everywhere else is refused, with one warning, and the pure loops run."""
    assert stream_twin.index_offset() is not None
    right = StreamTwin(_right_draws, _right_picks, object.__basicsize__)
    assert stream_twin.self_check(right) is None  # the stand-ins are right...
    wrong = StreamTwin(_wrong_at_regeneration, _right_picks, object.__basicsize__)
    assert "state after draws" in (stream_twin.self_check(wrong) or "")  # ...until they are not
    fake = types.ModuleType("pytest_monerosim.sim.stream_nb")
    fake.sample_draws_nb = _wrong_at_regeneration  # type: ignore[attr-defined]
    fake.sample_nb = _right_picks  # type: ignore[attr-defined]
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setitem(sys.modules, "pytest_monerosim.sim.stream_nb", fake)
    monkeypatch.setattr(sim, "stream_nb", fake, raising=False)
    lazy = LazyTwin(after=1)
    with pytest.warns(RuntimeWarning, match="self-check") as caught:
        lazy.count()
    assert len(caught) == 1 and lazy.twin is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            lazy.count()  # asked once: no second load, no second warning
    assert lazy.twin is None


def test_a_failing_self_check_keeps_the_pure_loops(twin: StreamTwin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_twin, "self_check", lambda t: "forced mismatch")
    with pytest.warns(RuntimeWarning, match="forced mismatch"):
        assert stream_twin.load() is None


# -- a whole run ------------------------------------------------------------------------------

def test_a_run_is_the_same_with_the_twin_and_without(twin: StreamTwin,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """300 nodes for 4 h (the 1k benchmark's shape, smaller): white lists pass the 250 entries a
    node advertises, so answers draw through ``sample``/``sample_draws`` (~54,000 calls)."""
    from pytest_monerosim.backends.sim import run_scenario
    from pytest_monerosim.config.model import Scenario
    from pytest_monerosim.result.summary import summarize, without_wall_clock

    scenario = Scenario.model_validate({
        "general": {"name": "twin-300", "seed": 3, "duration": "4h"},
        "network": {"topology": "monero", "latency": {"name": "uniform", "low": 0.02, "high": 0.2}},
        "p2p": {"out_peers": 12},
        "nodes": [{"group": "miner", "count": 10, "role": "miner", "hashrate": 1.0},
                  {"group": "relay", "count": 290}],
    })
    runs = []
    counting = CountingTwin(twin)
    for use in (counting, None):
        pinned = LazyTwin()
        pinned.set(use)  # type: ignore[arg-type]
        monkeypatch.setattr(peers, "STREAMS", pinned)
        result = run_scenario(scenario, make_registry(), snapshot_interval_s=1800)
        runs.append((without_wall_clock(summarize(result)),
                     [(s.time, sorted(s.edges)) for s in result.peer_snapshots]))
    assert counting.calls["draws"] > 10_000 and counting.calls["picks"] > 0, counting.calls
    assert runs[0] == runs[1]
