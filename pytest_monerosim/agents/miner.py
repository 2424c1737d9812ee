"""The miner agent: hosts a node behaviour over the node's daemon RPC.

It drives one node: the behaviour plugin named by ``--plugin`` (registry kind
``behaviour``, e.g. ``hashrate_mining``) runs against an
:class:`~.runtime.RpcNode`; once the behaviour calls ``set_hashrate``, a
Poisson timer with mean ``target_s * total_hashrate / hashrate`` simulated
seconds mines one block at a time with ``generateblocks`` to the address of
``--wallet-name`` (published by its user agent) or to a burn address.

Records: ``start``, ``mined`` (``node``, ``block``, ``height``), ``relaying``,
``log`` (the behaviour's own events), ``error``, ``stop``.

Example::

    python -m pytest_monerosim.agents.miner --name miner-m0 --host m0 \\
        --out run/hosts/m0 --shared run/shared --t0 1700000000.0 --time-scale 120 \\
        --duration 3600 --seed 1 --node m0 --daemon http://127.0.0.1:18081 \\
        --wallet-name w-m0 --plugin hashrate_mining --params '{}' \\
        --options '{"hashrate": 1, "total_hashrate": 2, "target_s": 120}'
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    from ._cli import main as cli_main

    return cli_main("miner", argv)


if __name__ == "__main__":
    raise SystemExit(main())
