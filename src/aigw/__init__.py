"""aigw: an AI gateway that polices, prices, protects and observes every AI call."""

__version__ = "0.1.0"
