"""A third-party node behaviour (``bursty_mining``) and attack (``isolation``) for pytest-monerosim."""

from .attacks import ISOLATION
from .behaviours import BURSTY_MINING

__all__ = ["BURSTY_MINING", "ISOLATION"]
