"""Child processes that cannot outlive the test run that started them.

Three layers of protection, from the common case to the worst one:

1. :meth:`ManagedProcess.stop` runs a ladder: a graceful request (an RPC such
   as ``stop_daemon``), then SIGTERM to the process group, then SIGKILL.
2. A module registry of live processes is stopped at interpreter exit
   (``atexit``) and when the interpreter receives SIGTERM (only where no other
   handler than the default one is installed and we are in the main thread;
   SIGINT already becomes ``KeyboardInterrupt``, which ends in ``atexit``).
3. If the owner dies without running any Python (SIGKILL, OOM), Linux sends
   each child SIGKILL through ``PR_SET_PDEATHSIG``; and every child has a pid
   file in its run directory so :func:`reap_stale` can find and kill what a
   dead owner left behind (e.g. on a platform without ``prctl``).

``PR_SET_PDEATHSIG`` fires when the *thread* that forked the child exits, not
only the process: a child started from a short-lived thread (a thread pool)
would die with that thread. So it is only armed, by default, when the process
is started from the main thread. Start processes from the main thread and wait
for readiness in parallel if you need speed.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from ...atomic import atomic_write
from .errors import MonerodBackendError, ProcessDied

PID_FILE_SUFFIX = ".pid.json"
_PR_SET_PDEATHSIG = 1
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_POLL = 0.05


class ManagedProcess:
    """One external program in its own process group, logging to a file."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        name: str,
        run_dir: Path,
        log_path: Path | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        die_with_parent: bool | None = None,
    ) -> None:
        self.argv = [str(a) for a in argv]
        self.name = name
        self.run_dir = Path(run_dir)
        self.log_path = Path(log_path) if log_path else self.run_dir / f"{name}.out"
        self.pid_file = self.run_dir / f"{name}{PID_FILE_SUFFIX}"
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.die_with_parent = die_with_parent
        self.started_at: float | None = None
        self._popen: subprocess.Popen[bytes] | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        if self._popen is not None:
            raise MonerodBackendError(f"{self.name} was already started (pid {self.pid})")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        arm = self.die_with_parent
        if arm is None:
            arm = threading.current_thread() is threading.main_thread()
        _install_signal_handlers()
        with open(self.log_path, "ab") as log:
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=_death_signal_preexec() if arm else None,
            )
        self.started_at = time.time()
        _register(self)
        self._write_pid_file()

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    @property
    def returncode(self) -> int | None:
        """Exit code once the process has exited (negative: killed by that signal)."""
        if self._popen is None:
            return None
        if self._popen.returncode is None and self._exited():
            self._popen.wait()
        return self._popen.returncode

    def alive(self) -> bool:
        return self._popen is not None and self._popen.returncode is None and not self._exited()

    def check(self, when: str = "") -> None:
        """Raise :class:`ProcessDied` (with the log tail) if the process has exited."""
        if self._popen is not None and not self.alive():
            raise ProcessDied(self.name, self.returncode, self.log_tail(), self.log_path, when)

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the process to exit; True if it has."""
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL)
        return True

    def stop(
        self,
        graceful: Callable[[], object] | None = None,
        *,
        graceful_timeout: float = 10.0,
        term_timeout: float = 5.0,
        kill_timeout: float = 5.0,
    ) -> int | None:
        """Stop the process: ``graceful()`` -> SIGTERM to the group -> SIGKILL.

        Each step is taken only if the process outlived the previous one's
        timeout. If ``graceful`` raises (e.g. the RPC is not listening yet),
        the ladder goes straight on to SIGTERM. Returns the exit code.
        """
        if self._popen is None:
            return None
        if self.alive() and graceful is not None:
            try:
                graceful()
            except Exception:  # any failure means: escalate now
                pass
            else:
                self.wait(graceful_timeout)
        if self.alive():
            self._signal_group(signal.SIGTERM)
            self.wait(term_timeout)
        if self.alive():
            self._signal_group(signal.SIGKILL)
            self.wait(kill_timeout)
        self._finish()
        return self._popen.returncode

    def kill(self) -> int | None:
        """SIGKILL the whole group at once and clean up."""
        return self.stop(term_timeout=0.0)

    # -- logs --------------------------------------------------------------------

    def log_tail(self, n: int = 40) -> str:
        """The last ``n`` log lines, preceded by any earlier error lines."""
        return diagnostic_tail(self.log_path, n)

    # -- internals -----------------------------------------------------------------

    def _exited(self) -> bool:
        """Has the child exited? Leaves it unreaped so its pgid cannot be reused."""
        assert self._popen is not None
        if self._popen.returncode is not None:
            return True
        try:
            info = os.waitid(os.P_PID, self._popen.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def _signal_group(self, sig: int) -> None:
        assert self._popen is not None
        if self._popen.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, sig)

    def _finish(self) -> None:
        """Kill stragglers of the group, reap the leader, drop the pid file."""
        assert self._popen is not None
        if self._popen.returncode is None:
            # the leader is dead but unreaped: its pgid is still ours to signal
            self._signal_group(signal.SIGKILL)
            try:
                self._popen.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                return  # unkillable (D state): keep the pid file for reap_stale
        _unregister(self)
        with contextlib.suppress(FileNotFoundError):
            self.pid_file.unlink()

    def _write_pid_file(self) -> None:
        assert self._popen is not None
        record = {
            "name": self.name,
            "pid": self._popen.pid,
            "pgid": self._popen.pid,  # start_new_session: the child leads its group
            "start_ticks": proc_start_ticks(self._popen.pid),
            "owner_pid": os.getpid(),
            "owner_start_ticks": proc_start_ticks(os.getpid()),
            "argv": self.argv,
            "started": self.started_at,
            "log": str(self.log_path),
        }
        atomic_write(self.pid_file, json.dumps(record, indent=1))

    def __repr__(self) -> str:
        state = "alive" if self.alive() else f"exited {self.returncode}"
        return f"ManagedProcess({self.name!r}, pid={self.pid}, {state})"


# -- helpers ----------------------------------------------------------------------


def tail_file(path: Path, n: int = 40, max_bytes: int = 256 * 1024) -> str:
    """Last ``n`` lines of a text log, colour codes removed; '' if missing."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            data = handle.read()
    except FileNotFoundError:
        return ""
    text = _ANSI.sub("", data.decode("utf-8", errors="replace"))
    return "\n".join(text.splitlines()[-n:])


_ERROR_LINE = re.compile(
    r"(?i)(\b(error|fatal|exception|unrecognised|unrecognized|failed to)\b|\t[EF] |\s[EF] )"
)


def diagnostic_tail(path: Path, n: int = 40, max_errors: int = 10) -> str:
    """The log's last ``n`` lines, preceded by error lines that appear before them.

    monerod prints a start-up error and then its whole ``--help``, or an
    exception followed by a long shutdown sequence: the plain tail would miss
    the one line that matters.
    """
    lines = tail_file(path, 100_000).splitlines()
    tail = lines[-n:]
    earlier = [line for line in lines[:-n] if _ERROR_LINE.search(line)][-max_errors:]
    if not earlier:
        return "\n".join(tail)
    return "\n".join(
        ["[error lines earlier in the log]", *earlier, "[last lines]", *tail]
    )


def proc_start_ticks(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot (identifies it beyond pid reuse)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return int(fields[19])  # field 22 of stat(5); fields[0] is field 3


def _proc_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[0]


def _proc_cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _same_command(cmdline: list[str] | None, argv: list[str]) -> bool:
    """Is ``cmdline`` the recorded ``argv``, or its tail after an exec-in-place prefix?

    ``ip netns exec <ns> monerod ...`` becomes ``monerod ...`` in the same pid.
    """
    if not cmdline:
        return False
    return cmdline == argv or (argv[:3] == ["ip", "netns", "exec"] and cmdline == argv[4:])


def _is_running(pid: int, start_ticks: int | None) -> bool:
    """Is ``pid`` a live (non-zombie) process, the same one that had ``start_ticks``?"""
    state = _proc_state(pid)
    if state is None or state in ("Z", "X"):
        return False
    return start_ticks is None or proc_start_ticks(pid) == start_ticks


def _death_signal_preexec() -> Callable[[], None] | None:
    """A ``preexec_fn`` arming PR_SET_PDEATHSIG=SIGKILL, or None off Linux."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


# -- stale processes ------------------------------------------------------------------


def reap_stale(run_root: Path) -> list[int]:
    """Kill process groups left behind by owners that have died.

    Looks for pid files under ``run_root``; for each whose owner process is
    gone, kills the recorded group if its leader still runs the recorded
    command line (and started at the recorded time), then removes the file.
    Returns the pids killed. Files of live owners are left alone.
    """
    killed: list[int] = []
    for pid_file in sorted(Path(run_root).rglob(f"*{PID_FILE_SUFFIX}")):
        try:
            record: dict[str, Any] = json.loads(pid_file.read_text())
            pid, pgid = int(record["pid"]), int(record["pgid"])
            owner = int(record["owner_pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _is_running(owner, record.get("owner_start_ticks")):
            continue
        if _is_running(pid, record.get("start_ticks")) and _same_command(
            _proc_cmdline(pid), list(record.get("argv", []))
        ):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
            deadline = time.monotonic() + 5.0
            while _is_running(pid, None) and time.monotonic() < deadline:
                time.sleep(_POLL)
            killed.append(pid)
        with contextlib.suppress(FileNotFoundError):
            pid_file.unlink()
    return killed


# -- registry ---------------------------------------------------------------------------

_live: dict[int, ManagedProcess] = {}
_live_lock = threading.Lock()
_handlers_installed = False
_atexit_installed = False


_TERMINATE_HOOKS: list[Callable[[], None]] = []
"""Called after :func:`stop_all` when SIGTERM ends the process (no ``atexit`` then)."""


def on_terminate(hook: Callable[[], None]) -> None:
    """Run ``hook`` when SIGTERM ends this process, after its children were stopped."""
    if hook not in _TERMINATE_HOOKS:
        _TERMINATE_HOOKS.append(hook)


def live_processes() -> list[ManagedProcess]:
    with _live_lock:
        return list(_live.values())


def _register(proc: ManagedProcess) -> None:
    with _live_lock:
        _live[id(proc)] = proc


def _unregister(proc: ManagedProcess) -> None:
    with _live_lock:
        _live.pop(id(proc), None)


def stop_all(timeout: float = 3.0) -> None:
    """SIGTERM every live process's group, then SIGKILL what is left after ``timeout``."""
    procs = live_processes()
    for proc in procs:
        proc._signal_group(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        proc.wait(max(0.0, deadline - time.monotonic()))
    for proc in procs:
        proc.stop(term_timeout=0.0)


def _install_signal_handlers() -> None:
    """Stop children on SIGTERM, when that is safe to arrange (see module doc)."""
    global _atexit_installed, _handlers_installed
    with _live_lock:
        if not _atexit_installed:
            atexit.register(stop_all)
            _atexit_installed = True
    if _handlers_installed or threading.current_thread() is not threading.main_thread():
        return
    _handlers_installed = True
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:
        return  # someone else owns SIGTERM; atexit still covers orderly exits

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        stop_all(timeout=2.0)
        for hook in list(_TERMINATE_HOOKS):  # e.g. namespaces to delete once their processes are gone
            with contextlib.suppress(Exception):
                hook()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_sigterm)
