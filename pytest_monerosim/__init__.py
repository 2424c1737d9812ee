"""pytest-monerosim: Monero network simulations as pytest test suites."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
