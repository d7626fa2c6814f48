"""Local fallbacks: search that works when no provider answers."""
