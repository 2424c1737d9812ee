"""The embedded discrete-event simulator of a Monero network.

Knows nothing of pytest or processes. Modules, bottom up:

* :mod:`.engine` — the event loop (heap of ``(time, seq, callback, args)``);
  randomness comes from :mod:`pytest_monerosim.rng` (one stream per component);
* :mod:`.emission`, :mod:`.difficulty` — monerod's reward and retarget rules;
* :mod:`.chain` — the shared block tree and each node's chain view;
* :mod:`.peers`, :mod:`.p2p` — peer lists, peer selection, handshakes, timed syncs;
* :mod:`.relay` — fluffy-block relay and chain sync;
* :mod:`.mining` — Poisson mining and mining strategies;
* :mod:`.node`, :mod:`.components`, :mod:`.network` — nodes, plug-in
  components and the :class:`~.network.World` that runs a scenario.

Import :class:`~.network.World` from :mod:`.network`; this package module
stays import-light so sub-packages (``sim.tx``) can import siblings freely.
"""
