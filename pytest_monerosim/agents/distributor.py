"""The distributor agent: hosts a wallet strategy that funds other wallets.

Upstream Monerosim's ``miner-distributor`` as a process: it runs the wallet
strategy named by ``--plugin`` (the built-in ``distributor`` of
:mod:`pytest_monerosim.agents.wallets`: wait for the miners' coinbase to
unlock, fund the recipients in batches, top them up) against an
:class:`~.runtime.RpcWallet` that also offers the roster of every wallet in
the run and handles on them (``--options '{"roster": [...]}'``, written by
:func:`pytest_monerosim.backends.command_lines.agent_argv`), so it can pay from the
miners' wallets. The plan gives this script to every wallet whose strategy is
``distributor``.

Records: ``start``, ``tx_sent`` (one per payment, ``wallet`` = the paying
wallet), ``tx_failed``, ``log`` (``distributed``, ``distributor_funded``,
``distribution_failed``), ``error``, ``stop``.

Example::

    python -m pytest_monerosim.agents.distributor --name distributor-bank --host m0 \\
        --out run/hosts/m0 --shared run/shared --t0 1700000000.0 --time-scale 120 \\
        --duration 7200 --seed 1 --node m0 --daemon http://127.0.0.1:18081 \\
        --wallet-name bank --wallet http://127.0.0.1:18090 --plugin distributor \\
        --params '{"wait_time": 0, "initial_fund_amount": 10000000000000}' \\
        --options '{"roster": [{"name": "bank", "group": "bank", "node": "m0", "role": "miner",
                    "strategy": "distributor", "url": "http://127.0.0.1:18090",
                    "daemon": "http://127.0.0.1:18081"}, ...]}'
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    from ._cli import main as cli_main

    return cli_main("distributor", argv)


if __name__ == "__main__":
    raise SystemExit(main())
