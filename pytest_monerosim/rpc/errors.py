"""Errors of the JSON-RPC clients (and the base class of the monerod backend's errors).

Every message says what went wrong and what a person can do about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class MonerodBackendError(Exception):
    """Base class of every error raised by the monerod backend."""


class RpcError(MonerodBackendError):
    """The node answered an RPC call with an error object or a failed status."""

    def __init__(
        self,
        method: str,
        url: str,
        code: int | None,
        message: str,
        response: Mapping[str, Any] | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.code = code
        self.message = message
        #: the whole decoded answer, for callers that inspect status flags
        #: (``send_raw_transaction`` reports ``double_spend``, ``fee_too_low``...)
        self.response = dict(response) if response is not None else None
        code_txt = f"error {code}" if code is not None else "failure"
        super().__init__(f"RPC {method} at {url} returned {code_txt}: {message}")


class RpcTimeout(MonerodBackendError):
    """An RPC call got no answer within its timeout."""

    def __init__(self, method: str, url: str, timeout: float) -> None:
        self.method = method
        self.url = url
        self.timeout = timeout
        super().__init__(
            f"RPC {method} at {url} did not answer within {timeout:g} s; the node may be "
            "overloaded or hung: check its log, or raise the call's timeout"
        )


class RpcConnectionError(MonerodBackendError):
    """The RPC endpoint refused or dropped the connection."""

    def __init__(self, method: str, url: str, reason: str) -> None:
        self.method = method
        self.url = url
        self.reason = reason
        super().__init__(
            f"RPC {method} at {url}: cannot connect ({reason}); is the process running "
            "and listening on that port? check its log"
        )
