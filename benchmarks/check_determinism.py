"""Same seed → byte-identical results, before and after a speed change (prints; exit 1 on a change).

    python benchmarks/check_determinism.py --record    # store the hashes (do this on the old code)
    python benchmarks/check_determinism.py             # compare with the stored hashes
    python benchmarks/check_determinism.py --only eclipse sybil

Every fixture scenario (``fixtures/scenarios/*.yaml``, and the legacy files in
``fixtures/legacy/`` through the loader) runs on the ``sim`` backend with its
attack (the attack named like the file, as its suite runs it), shortened where a
full run is slow but still long enough for its txs and attacks to act. Two
benchmark shapes (many-node blocks-only, 1,011-node transactions) run briefly too.

For each run it hashes the summary without its wall-clock field (the hard
constraint) and, separately, a deeper fingerprint: every tx's first-seen times,
the peer snapshots and each node's chain tip, so a change that the summary
happens to hide still shows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import _checkout  # noqa: F401  (this checkout's package first)

ROOT = Path(__file__).resolve().parent.parent
STORE = Path(__file__).resolve().parent / "determinism.json"

ATTACKS: dict[str, dict[str, Any]] = {  # fixture → the attack its suite runs with it
    "eclipse": {"name": "eclipse", "params": {}},
    "sybil": {"name": "sybil", "params": {}},
    "double_spend": {"name": "double_spend", "params": {"q": 0.3, "z": 1, "trials": 12}},
    "partition": {"name": "partition", "params": {}},
    "selfish_mining": {"name": "selfish_mining", "params": {}},
}
DURATIONS = {  # shortened (s); None keeps the file's duration
    "double_spend": None,  # ends when its trials are judged
    "regions": 3600.0,
    "quickstart": 4 * 3600.0,
    "large_relays": 3600.0,
}


def cases() -> dict[str, Any]:
    from pytest_monerosim.config.loader import load_scenario

    out: dict[str, Any] = {}
    sys.path.insert(0, str(ROOT / "scenarios"))
    from test_mainnet_fidelity import SCALED  # the 33,047-node twin takes hours: its 1/40 copy

    for path in sorted((ROOT / "fixtures" / "scenarios").glob("*.yaml")):
        over = SCALED if path.stem == "mainnet" else None
        out[path.stem] = (lambda p=path, o=over: load_scenario(p, overrides=o), ATTACKS.get(path.stem),
                          DURATIONS.get(path.stem))
    for path in sorted((ROOT / "fixtures" / "legacy").glob("*.yaml")):
        out["legacy-" + path.stem] = (lambda p=path: load_scenario(p), None,
                                      DURATIONS.get(path.stem))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_sim
    import bench_transactions

    out["bench-1k-blocks"] = (lambda: bench_sim.network(1000, "2h"), None, None)
    out["bench-large-tx"] = (lambda: bench_transactions.large_scenario(4.0), None, None)
    return out


def fingerprint(scenario: Any, attack: dict[str, Any] | None,
                duration: float | None) -> tuple[str, str, float, int]:
    import numpy as np

    from pytest_monerosim.backends.sim import run_scenario
    from pytest_monerosim.config.loader import apply_run_overrides
    from pytest_monerosim.registry import default_registry
    from pytest_monerosim.result.summary import summarize, without_wall_clock

    if attack is not None and not scenario.attacks:
        data = scenario.model_dump(mode="json")
        data["attacks"] = [attack]
        scenario = type(scenario).model_validate(data)
    t0 = time.process_time()
    result = run_scenario(apply_run_overrides(scenario, duration=duration), default_registry())
    cpu = time.process_time() - t0
    summary = json.dumps(without_wall_clock(summarize(result)), sort_keys=True, default=str)
    deep = hashlib.sha256(summary.encode())
    nodes = list(result.nodes)
    for txid in sorted(result.txs, key=str):
        t = result.txs[txid]
        deep.update(repr((txid, t.status, t.created_at)).encode())
        seen = t.seen_by(nodes)
        deep.update(repr(sorted((n, float(np.float32(v))) for n, v in seen.items())).encode())
    for snap in result.peer_snapshots:
        deep.update(repr((snap.time, sorted(snap.edges))).encode())
    deep.update(json.dumps(result.attacks, sort_keys=True, default=str).encode())
    return hashlib.sha256(summary.encode()).hexdigest(), deep.hexdigest(), cpu, len(result.txs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="store the hashes instead of comparing")
    parser.add_argument("--only", nargs="*", help="case names to run")
    args = parser.parse_args(argv)
    stored = json.loads(STORE.read_text()) if STORE.exists() else {}
    changed = 0
    for name, (load, attack, duration) in cases().items():
        if args.only and name not in args.only:
            continue
        summary, deep, cpu, txs = fingerprint(load(), attack, duration)
        if args.record:
            stored[name] = {"summary": summary, "deep": deep}
            print(f"{name:24s} recorded {summary[:12]} {deep[:12]}  ({cpu:.1f} s CPU, {txs} txs)", flush=True)
            continue
        want = stored.get(name)
        if want is None:
            print(f"{name:24s} no stored hash", flush=True)
            continue
        ok_s, ok_d = want["summary"] == summary, want["deep"] == deep
        changed += not (ok_s and ok_d)
        print(f"{name:24s} summary {'same' if ok_s else 'CHANGED'}, deep {'same' if ok_d else 'CHANGED'}"
              f"  ({cpu:.1f} s CPU, {txs} txs)", flush=True)
    if args.record:
        tmp = STORE.with_suffix(".tmp")
        tmp.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
        tmp.replace(STORE)
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
