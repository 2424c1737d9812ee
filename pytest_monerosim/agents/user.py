"""The user agent: hosts a wallet strategy over a monero-wallet-rpc.

It opens (or creates) the wallet ``--wallet-name`` in the wallet-rpc at
``--wallet``, publishes its address in ``<shared>/wallets/<name>.json`` and
runs the strategy plugin named by ``--plugin`` (registry kind
``wallet_strategy``) against an :class:`~.runtime.RpcWallet`.

Records: ``start``, ``tx_sent`` (``wallet``, ``node``, ``tx``, ``fee``,
``amount``, ``weight``, ``destinations``, ``recipients``), ``tx_failed``,
``log``, ``error``, ``stop``.

Example::

    python -m pytest_monerosim.agents.user --name user-alice --host n1 \\
        --out run/hosts/n1 --shared run/shared --t0 1700000000.0 --time-scale 120 \\
        --duration 3600 --seed 1 --node n1 --daemon http://127.0.0.1:18081 \\
        --wallet-name alice --wallet http://127.0.0.1:18090 \\
        --plugin transaction_bot --params '{"interval": 120}'
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    from ._cli import main as cli_main

    return cli_main("user", argv)


if __name__ == "__main__":
    raise SystemExit(main())
