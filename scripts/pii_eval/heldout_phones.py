"""An extra held-out check for phones, in layouts the detector was not tuned on: libphonenumber's
own example numbers (fixed line and mobile) of many regions, formatted INTERNATIONAL, E164 and
NATIONAL, plus hand variations (dots, dashes, `00` for `+`, `+CC (0)`, everything run together),
each in a sentence with a phone word and in one without."""

from __future__ import annotations

import random
import re

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from .corpus import Doc, Span

REGIONS = (
    "US", "CA", "GB", "IE", "DE", "AT", "CH", "FR", "BE", "LU", "IT", "NL", "ES", "PT", "PL", "SE", "NO",
    "DK", "FI", "CZ", "SK", "HU", "RO", "GR", "HR", "SI", "BG", "LT", "LV", "EE", "IS", "MT", "CY",
    "AU", "NZ", "BR", "MX", "AR", "IN", "JP", "ZA", "TR", "IL", "SG",
)  # fmt: skip
_WITH_WORD = ("Please call me on {v} tomorrow.", "Tel.: {v}", "Mobile {v}", "Telefon: {v}", "portable : {v}")
_WITHOUT = ("{v}", "Alex Martin, {v}, Lisbon office", "| Alex | {v} |", "Account owner: Alex ({v})")


def _variations(number: phonenumbers.PhoneNumber, rng: random.Random) -> dict[str, str]:
    intl = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    nsn = phonenumbers.national_significant_number(number)
    code = str(number.country_code)
    out = {
        "INTERNATIONAL": intl,
        "E164": e164,
        "NATIONAL": national,
        "intl-dashes": re.sub(r"(?<=\d) (?=\d)", "-", intl),
        "intl-dots": re.sub(r"(?<=\d) (?=\d)", ".", intl),
        "00-prefix": "00" + intl[1:],
        "national-dashes": re.sub(r"(?<=\d) (?=\d)", "-", national),
        "national-compact": re.sub(r"[^\d+]", "", national),
    }
    cut = rng.choice((2, 3)) if len(nsn) > 7 else 1
    if (
        phonenumbers.PhoneMetadata.metadata_for_region(phonenumbers.region_code_for_number(number)).national_prefix
        == "0"
    ):
        out["plus-(0)"] = f"+{code} (0){nsn[:cut]} {nsn[cut:]}"
    return out


def heldout_phone_docs(seed: int = 404) -> list[Doc]:
    """One document per region, number type, layout and context (with and without a phone word)."""
    rng = random.Random(seed)
    docs: list[Doc] = []
    for region in REGIONS:
        for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            for layout, value in _variations(example, rng).items():
                for context, pool in (("word", _WITH_WORD), ("none", _WITHOUT)):
                    template = rng.choice(pool)
                    start = template.index("{v}")
                    text = template.replace("{v}", value)
                    docs.append(
                        Doc(
                            text,
                            (Span("PHONE", start, start + len(value), value),),
                            f"{region}/{layout}/{context}",
                            "heldout-phones",
                        )
                    )
    return docs
