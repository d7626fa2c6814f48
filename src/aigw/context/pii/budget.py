"""`WorkBudget`: how much costly checking one request's scans may still do.

Decision: the detector's cost must be bounded for any input, not only for typical text. The scan
itself is linear (bounded regexes, a bounded amount of work per candidate); what is not bounded by
the text's length alone is judging runs of digits: each run may be split into up to 35 windows,
and each window may be parsed by libphonenumber for several regions (30-50 µs a parse). An
adversary who packs digits and separators ("1.5 1.5 …", "0 0 0 …") made every run worth all of
that: ~2.5 s of CPU per MiB, 200 times ordinary text. So that work is paid from a budget counted in
units of judging one run or window (5-15 µs; a parse costs `PARSE`): a base per request (a short
request with a few phone numbers never runs short) plus `UNITS_PER_KIB` per KiB scanned, so the
worst case adds at most ~0.3 ms per KiB to the ~0.1 ms/KiB the scan costs. Ordinary prose uses a
few units per KiB. Once the budget is spent the rules fall back on cheap conservative answers
that mask more, never less (see `phones` and `numbers`): text made of nothing but numbers, past
the budget, has its runs of 8+ digits masked as phone numbers.
"""

from __future__ import annotations

BASE_UNITS = 256
UNITS_PER_KIB = 24.0
WINDOW = 1  # judging one window of a run of digits (a few regex tests)
PARSE = 8  # one libphonenumber parse and validation


class WorkBudget:
    """Units of costly work left for one request: `base`, plus `per_kib` per KiB of text scanned.

    One per request (the `Masker` holds it), so that many short texts share one base.
    """

    def __init__(self, base: int = BASE_UNITS, per_kib: float = UNITS_PER_KIB) -> None:
        self._left = float(base)
        self._per_char = per_kib / 1024
        self.spent = 0
        self.refused = 0  # how often the conservative answer was used instead

    def earn(self, chars: int) -> None:
        """Credit for `chars` more characters about to be scanned."""
        self._left += chars * self._per_char

    def spend(self, units: int) -> bool:
        """Takes `units` from the budget; False (and nothing taken) when there are not that many left."""
        if self._left < units:
            self.refused += 1
            return False
        self._left -= units
        self.spent += units
        return True
