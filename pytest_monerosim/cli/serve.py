"""``monerosim serve SCENARIO.yaml``: run one network while serving the live dashboard and API.

The API and dashboard listen on 127.0.0.1 only (``--port``, default 8765; 0
picks a free port) and obey only requests carrying the run's token: the
printed URL carries it (``$MONEROSIM_API_TOKEN`` fixes it). ``--allow-host``
adds a Host name the server answers to besides the loopback ones.
``--workdir DIR`` keeps the run's ``events.jsonl`` there; ``--replay DIR`` serves
such a saved run instead of running one, with a time slider.

The network runs in this process's main thread; the
server runs beside it and stops when the command ends. After the run the
server stays up for ``--linger`` seconds (default: until Ctrl-C) so the final
state can be looked at. ``--paused`` holds the run before its first event
until someone sends ``resume`` or ``step``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..backends import BACKENDS, BackendUnavailable, RunOptions
from . import UsageFailure
from .run import check_backend, describe, load_from_args, report_partial, seed_arg


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run a scenario with the live dashboard and REST API on 127.0.0.1")
    p.add_argument("scenario", metavar="SCENARIO.yaml", nargs="?", default=None)
    p.add_argument("--replay", default=None, metavar="DIR",
                   help="serve a finished run from DIR/events.jsonl (no SCENARIO) with a time slider")
    p.add_argument("--workdir", default=None, metavar="DIR",
                   help="the run's output folder: events.jsonl (for --replay) and real backends' data")
    p.add_argument("--allow-host", dest="allow_hosts", action="append", default=[], metavar="NAME",
                   help="also answer requests for Host NAME (default: loopback names only)")
    p.add_argument("--port", type=int, default=8765,
                   help="port on 127.0.0.1 (default 8765; 0 = any free port)")
    p.add_argument("--seed", type=seed_arg, default=None, help="override general.seed (an integer >= 0)")
    p.add_argument("--duration", default=None, help='override general.duration, e.g. "2h"')
    p.add_argument("--backend", default=None, help=f"one of {', '.join(BACKENDS)} (default: sim)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a scenario field (repeatable)")
    p.add_argument("--paused", action="store_true", help="hold the run before its first event")
    p.add_argument("--linger", type=float, default=None, metavar="SECONDS",
                   help="keep serving this long after the run (default: until Ctrl-C)")
    p.add_argument("--log", default=None, metavar="OUT.jsonl", help="write every event as JSON lines")
    p.add_argument("--json", dest="json_out", default=None, metavar="OUT", help="write the summary JSON")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise UsageFailure(f"--port {args.port}; accepted: 0..65535")
    if args.linger is not None and args.linger < 0:
        raise UsageFailure(f"--linger {args.linger}; accepted: seconds >= 0")
    if args.replay is not None:
        if args.scenario is not None:
            raise UsageFailure(f"--replay {args.replay} with a scenario {args.scenario}; "
                               "accepted: one of them")
        return _replay(args)
    if args.scenario is None:
        raise UsageFailure("serve needs SCENARIO.yaml, or --replay DIR (a saved run's output folder)")
    check_backend(args)
    scenario = load_from_args(args)

    from ..observe.api import ApiServer
    from ..observe.observer import LiveSession
    from ..runner import NetworkRun, run_scenario

    observer = LiveSession(watch=True)
    if args.log:
        observer.log_to(Path(args.log))
    try:
        server = ApiServer(observer, args.port, allowed_hosts=args.allow_hosts).start()
    except OSError as exc:
        raise UsageFailure(f"--port: {exc}") from None
    try:
        print(f"monerosim: dashboard and API at {server.dashboard_url}", flush=True)
        options = RunOptions(workdir=Path(args.workdir) if args.workdir else None)
        backend = args.backend or scenario.general.backend or "sim"
        partial: list[NetworkRun] = []
        try:
            with observer.run(scenario=scenario, backend=backend, options=options, test=None):
                if args.paused and observer.gate is not None:
                    observer.gate.pause()
                    print("monerosim: paused before the first event; POST "
                          f"{server.url}api/run/command {{\"command\": \"resume\"}} "
                          "(header Authorization: Bearer TOKEN)", flush=True)
                try:
                    run = run_scenario(scenario, backend=backend, options=options, source=args.scenario,
                                       on_partial=partial.append)
                except BackendUnavailable as exc:
                    raise UsageFailure(str(exc)) from None
                except (Exception, KeyboardInterrupt):
                    if partial:  # the dashboard shows what the run measured, marked failed/interrupted
                        observer.run_done(partial[0].result, partial[0].summary)
                    raise
        except (Exception, KeyboardInterrupt):
            if not partial:
                raise
            return report_partial(partial[0], args.json_out, None)
        observer.run_done(run.result, run.summary)
        if args.json_out:
            run.write_summary(args.json_out)
        print(describe(run), flush=True)
        if args.workdir:
            print(f"monerosim: events saved in {Path(args.workdir) / 'events.jsonl'} "
                  f"(monerosim serve --replay {args.workdir})", flush=True)
        _linger(args.linger, server.dashboard_url)
    finally:
        server.stop()
        observer.close()
    sys.stdout.flush()
    return 0


def _linger(seconds: float | None, url: str) -> None:
    if seconds == 0:
        return
    if seconds is None:
        print(f"monerosim: run finished; still serving {url} (Ctrl-C to stop)", flush=True)
        while True:
            time.sleep(3600)
    time.sleep(seconds)


def _replay(args: argparse.Namespace) -> int:
    from ..observe.api import ApiServer
    from ..observe.observer import LiveSession
    from ..observe.replay import Replay, ReplayError, load_events

    try:
        events = load_events(Path(args.replay))
    except (ReplayError, OSError) as exc:
        raise UsageFailure(str(exc)) from None
    observer = LiveSession(watch=False)
    replay = observer.replay = Replay(observer, events, source=str(args.replay))
    replay.seek(replay.end)
    try:
        server = ApiServer(observer, args.port, allowed_hosts=args.allow_hosts).start()
    except OSError as exc:
        raise UsageFailure(f"--port: {exc}") from None
    try:
        print(f"monerosim: replay of {args.replay} ({len(events)} events, {replay.end:.0f} s simulated) "
              f"at {server.dashboard_url}", flush=True)
        _linger(args.linger, server.dashboard_url)
    finally:
        server.stop()
        observer.close()
    return 0
