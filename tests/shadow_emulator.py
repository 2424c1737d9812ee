"""A stand-in for the ``shadow`` binary in tests: runs a Shadow config's processes for real.

Shadow is built from source and is not installed where these tests run, so the
shadow backend's tests run the generated directory with this instead. It does
what Shadow does around the processes, not the network simulation:

* refuses to start over an existing data directory; copies the template
  directory to it; runs each process in ``<data>/hosts/<host>/`` with exactly
  the configured environment, at its ``start_time``;
* names output ``<exe>.<pid>.stdout`` / ``.stderr`` in the host directory;
* at ``stop_time`` — or as soon as every process expected to exit has exited,
  which Shadow does not do but which keeps the tests short — stops what
  still runs and compares every process with its
  ``expected_final_state``, logging ``process '...' exited with status ...;
  expected end state was ... but was ...`` for a mismatch, and ends with
  ``** Shadow completed successfully`` (exit 0) or ``** Shadow did not complete
  successfully`` (exit 1).

Time: simulated second ``s`` is wall time ``T0 + s / SCALE``, with ``T0`` and
``SCALE`` from the environment (``MONEROSIM_EMULATOR_T0``,
``MONEROSIM_EMULATOR_SCALE``), the same clock the config's agents were given.
The processes run on the addresses written in the config, so the config must
have been written with loopback addresses (``ShadowSettings.addresses``).

Usage: ``python shadow_emulator.py shadow.yaml`` (in the config's directory).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from pytest_monerosim.shadow_units import parse_time_ns

STOP_WAIT_S = 15.0


def _final(code: int) -> Any:
    if code >= 0:
        return {"exited": code}
    return {"signaled": signal.Signals(-code).name}


def _yaml_state(state: Any) -> str:
    return yaml.safe_dump(state, default_flow_style=True).strip().strip("{}").strip() \
        if isinstance(state, dict) else str(state)


def _status(code: int | None) -> str:
    if code is None:
        return "StoppedByShadow"
    return f"Normal({code})" if code >= 0 else f"Signaled({signal.Signals(-code).name})"


def _sleep_until(wall: float) -> None:
    while True:
        left = wall - time.time()
        if left <= 0:
            return
        time.sleep(min(left, 0.2))


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=STOP_WAIT_S)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def main(argv: list[str]) -> int:
    config = yaml.safe_load(Path(argv[0]).read_text())
    t0 = float(os.environ["MONEROSIM_EMULATOR_T0"])
    scale = float(os.environ["MONEROSIM_EMULATOR_SCALE"])
    general = config["general"]
    data = Path(general.get("data_directory", "shadow.data"))
    if data.exists():
        print(f"** Shadow did not complete successfully: data directory {data} exists", file=sys.stderr)
        return 1
    template = general.get("template_directory")
    if template:
        shutil.copytree(template, data)
    stop = parse_time_ns(general["stop_time"]) / 1e9
    todo = []
    for host, spec in config["hosts"].items():
        (data / "hosts" / host).mkdir(parents=True, exist_ok=True)
        for i, proc in enumerate(spec["processes"]):
            start = parse_time_ns(proc.get("start_time", 0)) / 1e9
            todo.append((start, host, i, proc))
    todo.sort(key=lambda item: (item[0], item[1], item[2]))
    running: list[tuple[str, str, subprocess.Popen[bytes], Any]] = []
    errors = 0
    try:
        for start, host, i, proc in todo:
            _sleep_until(t0 + start / scale)
            directory = (data / "hosts" / host).resolve()
            exe = Path(proc["path"]).name
            args = proc.get("args", [])
            args = shlex.split(args) if isinstance(args, str) else list(args)
            path = proc["path"] if os.sep in proc["path"] else shutil.which(proc["path"])
            out_tmp, err_tmp = directory / f".{exe}.{i}.out", directory / f".{exe}.{i}.err"
            with open(out_tmp, "wb") as out, open(err_tmp, "wb") as err:
                child = subprocess.Popen([str(path), *args], cwd=directory,
                                         env=dict(proc.get("environment") or {}),
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         start_new_session=True)
            out_tmp.rename(directory / f"{exe}.{child.pid}.stdout")
            err_tmp.rename(directory / f"{exe}.{child.pid}.stderr")
            expected = proc.get("expected_final_state", {"exited": 0})
            running.append((f"{host}.{exe}.{child.pid}", exe, child, expected))
        deadline = t0 + stop / scale
        while time.time() < deadline and any(
                child.poll() is None for _, _, child, expected in running if expected != "running"):
            time.sleep(0.2)
        for name, _, child, expected in running:
            code = child.poll()
            actual: Any = "running" if code is None else _final(code)
            if actual != expected:
                errors += 1
                print(f"process '{name}' exited with status {_status(code)}; expected end state was "
                      f"{_yaml_state(expected)} but was {_yaml_state(actual)}", file=sys.stderr)
    finally:
        for _, _, child, _ in running:
            _stop(child)
    if errors:
        print(f"** Shadow did not complete successfully: {errors} managed processes in unexpected "
              "final state", file=sys.stderr)
        return 1
    print("** Shadow completed successfully", file=sys.stderr)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally: stop children
    sys.exit(main(sys.argv[1:]))
