"""aigw: an AI gateway that polices, prices, protects and observes every AI call.

From Python: `aigw.Gateway` (async) and `aigw.SyncGateway`, see `aigw.embedded`.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Gateway", "Item", "SyncGateway"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so `import aigw` (and the CLI's start) stays light.
    if name == "Gateway":
        from aigw.gateway import Gateway

        return Gateway
    if name == "SyncGateway":
        from aigw.embedded import SyncGateway

        return SyncGateway
    if name == "Item":
        from aigw.catalog.item import Item

        return Item
    raise AttributeError(f"module 'aigw' has no attribute {name!r}")
