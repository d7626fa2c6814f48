"""PII values for the corpus: Faker's own, plus phone layouts people use that Faker does not write.

Phone numbers come three ways, a third each: Faker's `phone_number()` as it is (every layout the
locale's provider knows, valid by the numbering plan or not), `msisdn()` (written `+…`, as an
MSISDN is dialled, or bare next to a phone word), and the same digits laid out again the way people
type them (`+CC NSN` with spaces, `00CC …`, `+CC (0) …`, the trunk 0 with the area code in
parentheses, dashes, dots, slashes, pairs, everything run together). Layout variations do not ask
libphonenumber anything: they only move digits and separators, so the corpus is not shaped by what
the detector validates.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import random
import re
import string

from faker import Faker

COUNTRY_CODES = {
    "en_US": "1",
    "en_GB": "44",
    "de_DE": "49",
    "fr_FR": "33",
    "it_IT": "39",
    "nl_NL": "31",
    "es_ES": "34",
    "pl_PL": "48",
    "sv_SE": "46",
    "pt_PT": "351",
}
# Whether national numbers start with the trunk prefix 0 (IT keeps its 0 inside the number).
_TRUNK = {"en_GB", "de_DE", "fr_FR", "nl_NL", "sv_SE"}
_NOT_DIGIT = re.compile(r"\D")


def phone(fake: Faker, locale: str, rng: random.Random) -> str:
    """One phone number as someone in `locale` might write it."""
    roll = rng.random()
    if roll < 0.4:
        return fake.phone_number()
    if roll < 0.55:
        return "+" + fake.msisdn() if rng.random() < 0.7 else fake.msisdn()
    return relayout(fake.phone_number(), locale, rng)


def national_digits(value: str, locale: str) -> str:
    """The national significant number in a Faker phone number: country code, `(0)`, trunk 0 and
    extension dropped."""
    value = re.split(r"x|ext", value)[0]
    code = COUNTRY_CODES[locale]
    value = value.replace("(0)", "")
    if value.startswith(f"({code})"):  # pt_PT writes "(351) 919825979"
        value = "+" + code + value[len(code) + 2 :]
    digits = _NOT_DIGIT.sub("", value)
    if value.lstrip("( ").startswith("+") or value.lstrip("( ").startswith("00" + code):
        digits = digits.removeprefix("00").removeprefix(code)
    elif locale in ("en_US",) and digits.startswith("001"):
        digits = digits[3:]
    elif locale == "en_US" and len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if locale in _TRUNK:
        digits = digits.lstrip("0")
    return digits


def relayout(value: str, locale: str, rng: random.Random) -> str:
    """The number in `value` written in another common layout."""
    nsn = national_digits(value, locale)
    code = COUNTRY_CODES[locale]
    national = ("0" + nsn) if locale in _TRUNK else nsn
    area = rng.choice((2, 3, 4)) if len(nsn) > 7 else 2
    head, tail = national[: area + (national != nsn)], national[area + (national != nsn) :]
    layouts = (
        lambda: f"+{code} {nsn[:area]} {_groups(nsn[area:], rng)}",
        lambda: f"+{code}{nsn}",
        lambda: f"00{code} {nsn[:area]} {_groups(nsn[area:], rng)}",
        lambda: f"00{code}{nsn}",
        lambda: f"+{code} (0){nsn[:area]} {nsn[area:]}" if national != nsn else f"+{code}-{nsn[:area]}-{nsn[area:]}",
        lambda: f"({head}) {_groups(tail, rng)}",
        lambda: f"{head} {_groups(tail, rng)}",
        lambda: f"{head}-{tail}",
        lambda: f"{head}/{tail}",
        lambda: ".".join(_split(national, rng)),
        lambda: "-".join(_split(national, rng)),
        lambda: national,
        lambda: f"+{code} {' '.join(_split(nsn, rng))}",
    )
    return rng.choice(layouts)()


def _groups(digits: str, rng: random.Random) -> str:
    return rng.choice((" ", "-", "")).join(_split(digits, rng)) if len(digits) > 4 else digits


# How numbers of each length are broken into groups to be read out (US 3-3-4, UK 4-3-3 or 5-6, French
# pairs, Spanish 3-2-2-2, Polish and Portuguese 3-3-3, German area code and the rest …).
_GROUPINGS: dict[int, tuple[tuple[int, ...], ...]] = {
    5: ((5,), (2, 3), (3, 2)),
    6: ((3, 3), (2, 2, 2)),
    7: ((3, 4), (3, 2, 2)),
    8: ((4, 4), (2, 2, 2, 2), (2, 3, 3), (3, 3, 2)),
    9: ((3, 3, 3), (3, 2, 2, 2), (2, 3, 2, 2), (2, 3, 4)),
    10: ((3, 3, 4), (2, 2, 2, 2, 2), (4, 3, 3), (2, 4, 4), (3, 3, 2, 2), (4, 6)),
    11: ((4, 3, 4), (5, 3, 3), (3, 4, 4), (5, 6), (4, 7), (3, 3, 3, 2)),
    12: ((4, 4, 4), (3, 3, 3, 3), (5, 7), (4, 8), (2, 2, 2, 2, 2, 2)),
    13: ((3, 3, 3, 4), (4, 4, 5), (5, 8)),
}


def _split(digits: str, rng: random.Random) -> list[str]:
    """`digits` in groups, as people break a number of that length to read it."""
    sizes = rng.choice(
        _GROUPINGS.get(len(digits), ((4,) * (len(digits) // 4) + ((len(digits) % 4,) if len(digits) % 4 else ()),))
    )
    parts, i = [], 0
    for size in sizes:
        parts.append(digits[i : i + size])
        i += size
    if i < len(digits):
        parts.append(digits[i:])
    return [p for p in parts if p]


def card(fake: Faker, rng: random.Random) -> str:
    """A card number of any network Faker knows (not starting with 0), bare or grouped."""
    number = fake.credit_card_number()
    while number.startswith("0"):  # Faker's 0604 Maestro prefix is no issuer range
        number = fake.credit_card_number()
    style = rng.choice(("", " ", "-"))
    if not style:
        return number
    if len(number) == 15:
        return style.join((number[:4], number[4:10], number[10:]))
    return style.join(number[i : i + 4] for i in range(0, len(number), 4))


def iban(fake: Faker, rng: random.Random) -> str:
    value = fake.iban()
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4)) if rng.random() < 0.5 else value


def ssn(fake: Faker, rng: random.Random) -> str:
    value = fake.ssn()
    return value.replace("-", " ") if rng.random() < 0.2 else value


def ipv6(fake: Faker, rng: random.Random) -> str:
    value = ipaddress.IPv6Address(fake.ipv6())
    return str(value) if rng.random() < 0.5 else value.exploded


def ipv4(fake: Faker, rng: random.Random) -> str:
    return rng.choice((fake.ipv4_public, fake.ipv4_private, fake.ipv4))()


def email(fake: Faker, rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.5:
        return fake.email()
    if pick < 0.8:
        first, last = _ascii(fake.first_name()), _ascii(fake.last_name())
        return f"{first}.{last}@{fake.free_email_domain()}".lower()
    return fake.company_email()


def _ascii(name: str) -> str:
    return re.sub(r"[^A-Za-z]", "", name.encode("ascii", "ignore").decode()) or "user"


def person(fake: Faker, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.6:
        return fake.name()
    if roll < 0.85:
        return f"{fake.first_name()} {fake.last_name()}"
    return fake.last_name() + ", " + fake.first_name()


def address(fake: Faker, rng: random.Random, *, multiline: bool) -> str:
    value = fake.address()
    return value if multiline else ", ".join(line.strip() for line in value.splitlines())


_B62 = string.ascii_letters + string.digits


def _rand(rng: random.Random, n: int, alphabet: str = _B62) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def secret(rng: random.Random, *, assigned: bool) -> str:
    """A key or token in a real shape; `assigned`: a password literal as in a config file."""
    if assigned:
        return _rand(rng, rng.randrange(8, 16)) + rng.choice("!#%&*_+") + str(rng.randrange(10))
    payload = base64.urlsafe_b64encode(json.dumps({"sub": rng.randrange(10**8)}).encode()).rstrip(b"=").decode()
    makers = (
        lambda: "sk-proj-" + _rand(rng, 48),
        lambda: "sk-" + _rand(rng, 48),
        lambda: "AKIA" + _rand(rng, 16, string.ascii_uppercase + string.digits),
        lambda: "ghp_" + _rand(rng, 36),
        lambda: "github_pat_" + _rand(rng, 22) + "_" + _rand(rng, 59),
        lambda: f"xoxb-{rng.randrange(10**11, 10**12)}-{rng.randrange(10**11, 10**12)}-{_rand(rng, 24)}",
        lambda: "AIza" + _rand(rng, 35, _B62 + "_-"),
        lambda: "sk_live_" + _rand(rng, 24),
        lambda: "eyJhbGciOiJIUzI1NiJ9.eyJ" + payload[3:] + "." + _rand(rng, 43, _B62 + "_-"),
    )
    return rng.choice(makers)()
