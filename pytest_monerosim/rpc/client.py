"""JSON-RPC clients for ``monerod`` and ``monero-wallet-rpc``.

Both programs serve two kinds of endpoint over plain HTTP: ``/json_rpc``
(JSON-RPC 2.0, errors as ``{"error": {"code", "message"}}``) and "other"
endpoints such as ``/get_peer_list`` or ``/stop_daemon`` that take a JSON body
and report failure only through a ``status`` field other than ``"OK"``.
Both kinds are turned into :class:`RpcError` here, so callers see one shape.

Retries: a call is retried after a connection failure or timeout only when
repeating it cannot change the outcome (reads, and idempotent setters such as
``out_peers``). Mining, relaying and transfers are never retried: a retry after
a lost answer could mine twice or spend twice.

Quirks of monerod 0.18 handled here: empty arrays are omitted from answers
(``get_connections`` with no peers has no ``connections`` key), so list
results default to ``[]``; ``generateblocks`` answers status ``BUSY`` while the
daemon is not synchronized, which a node with no peers never becomes unless it
runs with ``--offline``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from .errors import RpcConnectionError, RpcError, RpcTimeout

JsonDict = dict[str, Any]

DEFAULT_TIMEOUT = 30.0
#: seconds to wait before each retry of a safe call
RETRY_BACKOFF = (0.2, 0.5)


class RpcClient:
    """One HTTP JSON-RPC endpoint with a reusable connection.

    A client holds a :class:`requests.Session` (keep-alive connection reuse);
    like the session, it is meant for one thread at a time.
    """

    #: methods (json_rpc names or endpoint paths) that are safe to repeat
    safe_methods: frozenset[str] = frozenset()

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.base_url = f"http://{host}:{port}"
        if session is None:
            session = requests.Session()
            # loopback traffic must never go through an HTTP(S)_PROXY from the env
            session.trust_env = False
        self.session = session

    # -- transport ---------------------------------------------------------

    def call(self, method: str, /, **params: Any) -> JsonDict:
        """Call a ``/json_rpc`` method and return its ``result`` object."""
        return self.request(method, params)

    def request(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        retry: bool | None = None,
    ) -> JsonDict:
        """Call a ``/json_rpc`` method with explicit timeout/retry control."""
        body = {"jsonrpc": "2.0", "id": "0", "method": method, "params": dict(params or {})}
        url = f"{self.base_url}/json_rpc"
        answer = self._post(method, url, body, timeout, retry)
        error = answer.get("error")
        if error:
            code = error.get("code") if isinstance(error, dict) else None
            message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
            raise RpcError(method, url, code, self._explain(message), answer)
        result = answer.get("result")
        if not isinstance(result, dict):
            raise RpcError(method, url, None, f"answer has no result object: {answer!r}", answer)
        self._check_status(method, url, result)
        return result

    def post(
        self,
        path: str,
        payload: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        retry: bool | None = None,
    ) -> JsonDict:
        """POST to a plain endpoint such as ``/get_peer_list``; check its status."""
        method = path.lstrip("/")
        url = f"{self.base_url}/{method}"
        answer = self._post(method, url, dict(payload or {}), timeout, retry)
        self._check_status(method, url, answer)
        return answer

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> RpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url})"

    def _post(
        self,
        method: str,
        url: str,
        body: Mapping[str, Any],
        timeout: float | None,
        retry: bool | None,
    ) -> JsonDict:
        timeout = self.timeout if timeout is None else timeout
        if retry is None:
            retry = method in self.safe_methods
        delays: Sequence[float] = RETRY_BACKOFF if retry else ()
        attempt = 0
        while True:
            try:
                response = self.session.post(url, json=body, timeout=timeout)
                break
            except requests.Timeout as exc:
                if attempt >= len(delays):
                    raise RpcTimeout(method, url, timeout) from exc
            except requests.ConnectionError as exc:
                if attempt >= len(delays):
                    raise RpcConnectionError(method, url, _short_reason(exc)) from exc
            time.sleep(delays[attempt])
            attempt += 1
        if response.status_code != 200:
            raise RpcError(
                method,
                url,
                response.status_code,
                f"HTTP {response.status_code} {response.reason or ''}".strip()
                + (" (no such endpoint in this monerod version?)" if response.status_code == 404
                   else ""),
            )
        try:
            answer = response.json()
        except ValueError as exc:
            raise RpcError(
                method, url, None, f"answer is not JSON: {response.text[:200]!r}"
            ) from exc
        if not isinstance(answer, dict):
            raise RpcError(method, url, None, f"answer is not a JSON object: {answer!r}")
        return answer

    def _check_status(self, method: str, url: str, answer: JsonDict) -> None:
        status = answer.get("status")
        if status is None or status == "OK":
            return
        reason = answer.get("reason") or ""
        message = f"status {status}" + (f": {reason}" if reason else "")
        raise RpcError(method, url, None, self._explain(message), answer)

    def _explain(self, message: str) -> str:
        """Add a hint to messages whose cause is not obvious."""
        return message


class DaemonRpc(RpcClient):
    """Client for a ``monerod`` RPC port."""

    safe_methods = frozenset(
        {
            "get_info", "get_height", "get_block_count", "get_block_header_by_height",
            "get_block_header_by_hash", "get_last_block_header", "get_block",
            "get_connections", "get_peer_list", "get_transaction_pool",
            "get_transaction_pool_hashes", "get_alternate_chains", "get_version",
            "hard_fork_info", "sync_info", "get_bans", "out_peers", "in_peers",
            "set_bans", "flush_txpool", "get_transactions",
        }
    )

    def _explain(self, message: str) -> str:
        if "BUSY" in message:
            return (
                f"{message} (the daemon is not synchronized yet: it needs one connected "
                "peer to sync with first, or must run with --offline)"
            )
        return message

    # -- json_rpc methods ----------------------------------------------------

    def get_info(self) -> JsonDict:
        return self.call("get_info")

    def generateblocks(
        self,
        amount: int,
        wallet_address: str,
        *,
        prev_block: str | None = None,
        starting_nonce: int | None = None,
    ) -> JsonDict:
        """Mine ``amount`` blocks at once (regtest/fixed difficulty only).

        Returns ``{"height": new_top_height, "blocks": [hash, ...], ...}``.
        """
        params: JsonDict = {"amount_of_blocks": amount, "wallet_address": wallet_address}
        if prev_block is not None:
            params["prev_block"] = prev_block
        if starting_nonce is not None:
            params["starting_nonce"] = starting_nonce
        # about 50 ms a block on an idle small machine, but 0.75 s a block measured with
        # 3 peers and a wallet on a 2-core machine at load 12: leave room for that
        timeout = max(self.timeout, 10.0 + 2.0 * amount)
        result = self.request("generateblocks", params, timeout=timeout)
        result.setdefault("blocks", [])
        return result

    def get_block_header_by_height(self, height: int) -> JsonDict:
        return dict(self.call("get_block_header_by_height", height=height)["block_header"])

    def get_block_header_by_hash(self, block_hash: str) -> JsonDict:
        return dict(self.call("get_block_header_by_hash", hash=block_hash)["block_header"])

    def get_last_block_header(self) -> JsonDict:
        return dict(self.call("get_last_block_header")["block_header"])

    def get_block(self, *, height: int | None = None, block_hash: str | None = None) -> JsonDict:
        """Return the block's result object (``block_header``, ``tx_hashes``, ``json``...)."""
        if (height is None) == (block_hash is None):
            raise ValueError("get_block needs exactly one of height= or block_hash=")
        params: JsonDict = {"height": height} if height is not None else {"hash": block_hash}
        result = self.request("get_block", params)
        result.setdefault("tx_hashes", [])
        return result

    def get_connections(self) -> list[JsonDict]:
        return list(self.call("get_connections").get("connections", []))

    def get_alternate_chains(self) -> list[JsonDict]:
        return list(self.call("get_alternate_chains").get("chains", []))

    def set_bans(self, bans: Iterable[Mapping[str, Any]]) -> JsonDict:
        """Ban or unban hosts: each entry ``{"host"|"ip", "ban": bool, "seconds": int}``."""
        return self.call("set_bans", bans=[dict(b) for b in bans])

    def ban(self, host: str, seconds: int = 3600, *, ban: bool = True) -> JsonDict:
        """Ban (or with ``ban=False`` unban) one host."""
        return self.set_bans([{"host": host, "ban": ban, "seconds": seconds}])

    def get_bans(self) -> list[JsonDict]:
        return list(self.call("get_bans").get("bans", []))

    def flush_txpool(self, txids: Sequence[str] | None = None) -> JsonDict:
        """Drop the given transactions (all when ``txids`` is None) from the pool."""
        return self.call("flush_txpool", **({"txids": list(txids)} if txids else {}))

    def relay_tx(self, txids: Sequence[str]) -> JsonDict:
        return self.call("relay_tx", txids=list(txids))

    # -- plain endpoints ------------------------------------------------------

    def get_height(self) -> int:
        return int(self.post("/get_height")["height"])

    def get_peer_list(self) -> JsonDict:
        """``{"white_list": [...], "gray_list": [...]}`` (the plain endpoint)."""
        answer = self.post("/get_peer_list")
        answer.setdefault("white_list", [])
        answer.setdefault("gray_list", [])
        return answer

    def get_transaction_pool(self) -> JsonDict:
        answer = self.post("/get_transaction_pool")
        answer.setdefault("transactions", [])
        answer.setdefault("spent_key_images", [])
        return answer

    def get_transaction_pool_hashes(self) -> list[str]:
        return list(self.post("/get_transaction_pool_hashes").get("tx_hashes", []))

    def out_peers(self, n: int) -> JsonDict:
        """Set the maximum number of outgoing connections (0 cuts the node off)."""
        return self.post("/out_peers", {"set": True, "out_peers": n})

    def in_peers(self, n: int) -> JsonDict:
        """Set the maximum number of incoming connections."""
        return self.post("/in_peers", {"set": True, "in_peers": n})

    def pop_blocks(self, nblocks: int) -> int:
        """Remove the top ``nblocks`` blocks; return the new height."""
        return int(self.post("/pop_blocks", {"nblocks": nblocks})["height"])

    def send_raw_transaction(self, tx_as_hex: str, *, do_not_relay: bool = False) -> JsonDict:
        """Submit a serialized transaction.

        A rejection raises :class:`RpcError` whose message lists the flags the
        daemon set (``double_spend``, ``fee_too_low``...) and whose
        ``response`` holds the whole answer.
        """
        try:
            return self.post(
                "/send_raw_transaction", {"tx_as_hex": tx_as_hex, "do_not_relay": do_not_relay}
            )
        except RpcError as exc:
            if exc.response is None:
                raise
            flags = sorted(k for k, v in exc.response.items() if v is True and k != "untrusted")
            message = exc.message + (f" [{', '.join(flags)}]" if flags else "")
            raise RpcError(exc.method, exc.url, exc.code, message, exc.response) from None

    def get_transactions(self, txids: Sequence[str], *, decode_as_json: bool = False) -> JsonDict:
        answer = self.post(
            "/get_transactions", {"txs_hashes": list(txids), "decode_as_json": decode_as_json}
        )
        answer.setdefault("txs", [])
        answer.setdefault("missed_tx", [])
        return answer

    def stop_daemon(self) -> None:
        """Ask the daemon to exit; it answers first, then shuts down."""
        self.post("/stop_daemon", timeout=min(self.timeout, 10.0), retry=False)


@dataclass(frozen=True)
class Balance:
    """A wallet account's balance, in atomic units."""

    balance: int
    unlocked_balance: int
    #: blocks until the most recent locked output unlocks (0 when all are)
    blocks_to_unlock: int


class WalletRpc(RpcClient):
    """Client for a ``monero-wallet-rpc`` port."""

    safe_methods = frozenset(
        {
            "get_address", "get_balance", "get_transfers", "incoming_transfers",
            "get_height", "get_version", "refresh", "store",
        }
    )

    def get_version(self) -> int:
        return int(self.call("get_version")["version"])

    def create_wallet(self, filename: str, password: str = "", language: str = "English") -> None:
        """Create a wallet file in the wallet dir and open it."""
        # key derivation plus the first write take a couple of seconds
        self.request(
            "create_wallet",
            {"filename": filename, "password": password, "language": language},
            timeout=max(self.timeout, 60.0),
        )

    def open_wallet(self, filename: str, password: str = "") -> None:
        self.request(
            "open_wallet", {"filename": filename, "password": password},
            timeout=max(self.timeout, 60.0),
        )

    def close_wallet(self) -> None:
        self.call("close_wallet")

    def get_address(self, account_index: int = 0) -> str:
        return str(self.call("get_address", account_index=account_index)["address"])

    def refresh(self, start_height: int | None = None) -> JsonDict:
        """Scan the daemon for new blocks; ``{"blocks_fetched", "received_money"}``."""
        params = {} if start_height is None else {"start_height": start_height}
        return self.request("refresh", params, timeout=max(self.timeout, 120.0))

    def get_balance(self, account_index: int = 0) -> Balance:
        result = self.call("get_balance", account_index=account_index)
        return Balance(
            balance=int(result.get("balance", 0)),
            unlocked_balance=int(result.get("unlocked_balance", 0)),
            blocks_to_unlock=int(result.get("blocks_to_unlock", 0)),
        )

    def transfer(
        self,
        destinations: Sequence[tuple[str, int]] | Sequence[Mapping[str, Any]],
        *,
        priority: int = 0,
        do_not_relay: bool = False,
        get_tx_hex: bool = False,
        get_tx_metadata: bool = False,
        account_index: int = 0,
    ) -> JsonDict:
        """Send to ``[(address, atomic_amount), ...]`` (or ``{"address", "amount"}`` dicts).

        Returns ``tx_hash``, ``fee``, ``amount`` and, when asked, ``tx_blob``
        and ``tx_metadata`` (what :meth:`relay_tx` takes).
        """
        dests = [
            {"address": d[0], "amount": int(d[1])} if isinstance(d, tuple) else dict(d)
            for d in destinations
        ]
        params = {
            "destinations": dests,
            "priority": priority,
            "do_not_relay": do_not_relay,
            "get_tx_hex": get_tx_hex,
            "get_tx_metadata": get_tx_metadata,
            "account_index": account_index,
        }
        return self.request("transfer", params, timeout=max(self.timeout, 120.0))

    def relay_tx(self, tx_metadata_hex: str) -> str:
        """Relay a transaction made with ``do_not_relay``; return its hash."""
        return str(self.call("relay_tx", hex=tx_metadata_hex)["tx_hash"])

    def get_transfers(
        self,
        *,
        incoming: bool = True,
        out: bool = True,
        pending: bool = True,
        failed: bool = True,
        pool: bool = True,
        account_index: int = 0,
    ) -> dict[str, list[JsonDict]]:
        """Transfers by kind: keys ``in``, ``out``, ``pending``, ``failed``, ``pool``."""
        flags = {"in": incoming, "out": out, "pending": pending, "failed": failed, "pool": pool}
        result = self.call("get_transfers", account_index=account_index, **flags)
        return {kind: list(result.get(kind, [])) for kind, wanted in flags.items() if wanted}

    def incoming_transfers(self, transfer_type: str = "all") -> list[JsonDict]:
        """Outputs the wallet owns: ``transfer_type`` is all, available or unavailable."""
        return list(self.call("incoming_transfers", transfer_type=transfer_type)
                    .get("transfers", []))

    def get_height(self) -> int:
        return int(self.call("get_height")["height"])

    def store(self) -> None:
        self.call("store")

    def stop_wallet(self) -> None:
        """Save the open wallet and exit the process."""
        self.request("stop_wallet", timeout=min(self.timeout, 30.0), retry=False)


def _short_reason(exc: Exception) -> str:
    """The innermost cause of a requests error, without urllib3's long repr."""
    text = str(exc)
    for marker in ("Connection refused", "Connection reset", "Remote end closed",
                   "RemoteDisconnected", "Connection aborted"):
        if marker in text:
            return marker
    return text[:200]
