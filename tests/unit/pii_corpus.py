"""Seeded test data for the PII tests: prompts holding known PII, and prompts holding none.

PII values come from Faker's own providers in nine locales (emails, phone numbers, card numbers,
IBANs, US SSNs, IPv4/IPv6 addresses) plus generated secrets in the real shapes, mixed into
realistic prompt sentences (English and the locale's language, Japanese without spaces).

What is left out of the recall corpus, and why (the detector is not loosened to catch it):

* Phone numbers libphonenumber does not accept as valid for the locale's region or as an
  international number: Faker draws random area codes (en_US `+1-462-…`, nl_NL `(0016) 613186`,
  de_DE `00669 074391`, ja_JP `59-8983-4788` without the trunk 0, pt_BR 8-digit mobiles from before
  2016, fr_FR `+33 5 90…` which belong to +590). Many of them are caught anyway (the North American
  shape and `+`-numbers of possible length are accepted); `phone_rejects()` lists them.
* `msisdn()`: 13 random digits in every locale but pt_BR, where it is a valid Brazilian mobile;
  there it is used with a leading `+` (a bare 13-digit run is indistinguishable from an order or
  account number).
* Bare national digit runs (it_IT `3420837783`, en_US `2125550143`) only appear in sentences with
  a phone word: without one the detector deliberately ignores them.
* Card numbers starting with 0 (Faker's `0604…` Maestro prefix is not an issuer range).
"""

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass

import phonenumbers
from faker import Faker

from aigw.context.pii import PIIType

LOCALES: dict[str, str] = {
    "en_US": "US",
    "en_GB": "GB",
    "de_DE": "DE",
    "fr_FR": "FR",
    "es_ES": "ES",
    "it_IT": "IT",
    "nl_NL": "NL",
    "pt_BR": "BR",
    "ja_JP": "JP",
}
_LANGUAGE = {locale: locale[:2] for locale in LOCALES}


@dataclass(frozen=True)
class Sample:
    """One prompt and the PII values it holds, each with its expected type."""

    text: str
    values: tuple[tuple[PIIType, str], ...]
    locale: str


_T = dict[str, tuple[str, ...]]
EMAIL_TEMPLATES: _T = {
    "en": (
        "Please forward the signed contract to {v} before Friday.",
        "Can you draft a polite reply to {v}? They asked about the refund.",
        "Contact: {v}",
        "My email is {v}, thanks!",
        "cc {v} and me on the thread about the Q3 budget",
        "{name} <{v}> wrote: the meeting moved to 3pm.",
        "Summarise this mail from {v}:\nHi team, the build is green again.",
    ),
    "de": ("Bitte schicken Sie die Rechnung an {v}.", "Meine E-Mail-Adresse lautet {v}."),
    "fr": ("Merci d'écrire à {v} pour confirmer la réservation.",),
    "es": ("Escríbeme a {v} cuando puedas.",),
    "it": ("Scrivimi a {v} per favore.",),
    "nl": ("Mail mij op {v} als het klaar is.",),
    "pt": ("Envie o relatório para {v} ainda hoje.",),
    "ja": ("メールは{v}までお願いします。", "連絡先\uff1a{v}"),
}
PHONE_TEMPLATES: _T = {
    "en": (
        "Call me on {v} after 5pm.",
        "My phone number is {v}.",
        "Mobile: {v}",
        "You can reach the front desk at {v}.",
        "Tel. {v} (office)",
        "Please text me at {v} when you arrive.",
        "Write a reminder SMS to {name}; her cell is {v}.",
    ),
    "de": ("Sie erreichen mich telefonisch unter {v}.", "Telefon: {v}", "Meine Handynummer ist {v}."),
    "fr": ("Mon numéro de téléphone est le {v}.", "Appelez-moi au {v}, c'est mon portable."),
    "es": ("Mi teléfono es {v}.", "Llámame al móvil {v} mañana."),
    "it": ("Il mio cellulare è {v}.", "Telefono: {v}"),
    "nl": ("Bel me op mijn mobiel {v}.", "Telefoon: {v}"),
    "pt": ("Meu celular é {v}.", "Telefone para contato: {v}"),
    "ja": ("電話番号は{v}です。", "携帯{v}にお願いします。"),
}
# Only for numbers written with + or separators: a bare digit run needs a phone word (see above).
PHONE_NO_CUE_TEMPLATES = (
    "{name}, {v}, {city}",
    "Ask {name} ({v}) about the delivery.",
    "{name} / {v} / available Mon-Fri",
)
CARD_TEMPLATES: _T = {
    "en": (
        "Charge the card {v} for the renewal.",
        "My Visa is {v}, expiry 12/27.",
        "card number: {v}",
        "Please refund {v}; the payment failed twice.",
        "The customer paid with {v} on 2024-11-25.",
    ),
    "de": ("Meine Kreditkarte: {v}",),
    "fr": ("Ma carte bancaire est la {v}.",),
    "ja": ("カード番号は{v}です。",),
}
IBAN_TEMPLATES: _T = {
    "en": (
        "Please wire the deposit to {v}.",
        "IBAN: {v}",
        "Transfer to account {v} (ref. INV-2024-0042).",
        "Update the supplier's bank details to {v} and confirm.",
    ),
    "de": ("Überweisung bitte auf {v}.",),
    "fr": ("Mon IBAN est {v}.",),
    "nl": ("Graag overmaken naar {v}.",),
}
SSN_TEMPLATES: _T = {
    "en": (
        "My SSN is {v}.",
        "Social security number: {v}",
        "Fill in the W-2 with SSN {v} and the address below.",
        "{name}'s SSN {v} is on file.",
    ),
}
IPV4_TEMPLATES: _T = {
    "en": (
        "The server at {v} refuses connections on port 443.",
        "Block {v} in the firewall.",
        "ssh admin@{v} -p 2222 fails with a timeout",
        "Logs show 500 requests from {v} at 03:14.",
        "curl http://{v}:8080/health returns 502",
    ),
}
IPV6_TEMPLATES: _T = {
    "en": ("The host resolves to {v}.", "Whitelist {v} please.", "ping6 {v} loses 30% of packets", "[{v}]:443"),
}
SECRET_TEMPLATES: dict[str, tuple[str, ...]] = {
    "openai": ("My OpenAI key {v} stopped working, why?", "export OPENAI_API_KEY={v}"),
    "akia": ("Why does boto3 say InvalidClientTokenId for {v}?", "aws_access_key_id = {v}"),
    "aws_secret": ("aws_secret_access_key = {v}", "My AWS secret key is {v}, is it leaked?"),
    "github": ("git clone https://{v}@github.com/acme/app.git fails", "GITHUB_TOKEN: {v}"),
    "slack": ("SLACK_BOT_TOKEN={v}", "The bot uses {v} but gets not_authed."),
    "google": ("const key = '{v}';", "maps api key {v} returns REQUEST_DENIED"),
    "stripe": ("Stripe says the key {v} is invalid.", 'stripe.api_key = "{v}"'),
    "jwt": ("curl -H 'Authorization: Bearer {v}' https://api.example.com/me", "Decode this token: {v}"),
    "pem": ("Here is the key file:\n{v}\nWhy does ssh reject it?",),
    "password": ("password={v}", 'DB_PASSWORD="{v}"', "login failed with password: {v}"),
    "api_key": ('{{"api_key": "{v}", "region": "eu"}}', "client_secret: {v}", "auth_token={v}"),
}
_FILLER = (
    "Thanks in advance.",
    "Keep the answer short.",
    "This is urgent, the client is waiting.",
    "Please answer in a friendly tone.",
    "Also list the next steps.",
)


def _pick(templates: _T, locale: str, rng: random.Random) -> str:
    own = templates.get(_LANGUAGE[locale], ())
    return rng.choice(own if own and rng.random() < 0.4 else templates["en"])


def _grouped(digits: str, rng: random.Random) -> str:
    """A card number as people type it: bare, or in groups of four (Amex 4-6-5) with spaces or dashes."""
    style = rng.choice(("bare", " ", "-"))
    if style == "bare":
        return digits
    groups = (
        [digits[:4], digits[4:10], digits[10:]]
        if len(digits) == 15
        else [digits[i : i + 4] for i in range(0, len(digits), 4)]
    )
    return style.join(groups)


def _valid_phone(value: str, region: str) -> bool:
    national = not value.startswith(("+", "00"))
    trunk = phonenumbers.PhoneMetadata.metadata_for_region(region).national_prefix  # type: ignore[union-attr]
    if national and trunk == "0" and region != "BR" and not value.lstrip("(").startswith("0"):
        return False  # a national number without its trunk 0 cannot be dialled as written
    for candidate_region in (region, None):
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(value, candidate_region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


def _phone_values(fake: Faker, locale: str, count: int) -> list[str]:
    values: list[str] = []
    while len(values) < count:
        value = fake.msisdn() if locale == "pt_BR" and len(values) % 5 == 4 else fake.phone_number()
        if value.isdigit() and len(value) == 13:
            value = "+" + value
        if _valid_phone(value, LOCALES[locale]):
            values.append(value)
    return values


def phone_rejects(locale: str, count: int = 500, seed: int = 7) -> list[str]:
    """Faker phone numbers of `locale` that libphonenumber rejects (left out of the recall corpus)."""
    fake = Faker(locale)
    fake.seed_instance(seed)
    return [v for v in (fake.phone_number() for _ in range(count)) if not _valid_phone(v, LOCALES[locale])]


def _fill(template: str, value: str, fake: Faker) -> str:
    return template.format(v=value, name=fake.name(), city=fake.city())


def _single_type_samples(
    fake: Faker, us: Faker, locale: str, per_type: int, rng: random.Random
) -> list[tuple[PIIType, str, str]]:
    out: list[tuple[PIIType, str, str]] = []
    for _ in range(per_type):
        out.append((PIIType.EMAIL, (v := fake.email()), _fill(_pick(EMAIL_TEMPLATES, locale, rng), v, fake)))
        number = fake.credit_card_number()
        if not number.startswith("0"):
            out.append((PIIType.CARD, (v := _grouped(number, rng)), _fill(_pick(CARD_TEMPLATES, locale, rng), v, fake)))
        iban = fake.iban()
        v = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.5 else iban
        out.append((PIIType.IBAN, v, _fill(_pick(IBAN_TEMPLATES, locale, rng), v, fake)))
        out.append((PIIType.IPV4, (v := fake.ipv4()), _fill(_pick(IPV4_TEMPLATES, locale, rng), v, fake)))
        out.append((PIIType.IPV6, (v := fake.ipv6()), _fill(_pick(IPV6_TEMPLATES, locale, rng), v, fake)))
        ssn = us.ssn()  # SSNs are US numbers, but any prompt may hold one
        out.append((PIIType.SSN, ssn, _fill(_pick(SSN_TEMPLATES, locale, rng), ssn, fake)))
    for value in _phone_values(fake, locale, per_type * 2):
        bare = value.isdigit()
        if not bare and rng.random() < 0.3:
            template = rng.choice(PHONE_NO_CUE_TEMPLATES)
        else:
            template = _pick(PHONE_TEMPLATES, locale, rng)
        out.append((PIIType.PHONE, value, _fill(template, value, fake)))
    return out


def pii_samples(per_type: int = 60, seed: int = 1234) -> list[Sample]:
    """Prompts with known PII: per locale `per_type` of each type (twice as many phones), one or two
    to a prompt, sometimes with a filler sentence."""
    rng = random.Random(seed)
    us = Faker("en_US")
    us.seed_instance(seed)
    samples: list[Sample] = []
    for index, locale in enumerate(LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed + index)
        singles = _single_type_samples(fake, us, locale, per_type, rng)
        singles += [(PIIType.SECRET, v, t) for v, t in secret_samples(rng, per_type // 3)]
        rng.shuffle(singles)
        while singles:
            group = [singles.pop() for _ in range(min(len(singles), rng.choice((1, 2))))]
            sentences = [text for _, _, text in group]
            if rng.random() < 0.5:
                sentences.insert(rng.randrange(len(sentences) + 1), rng.choice(_FILLER))
            samples.append(Sample(_join(sentences, rng), tuple((k, v) for k, v, _ in group), locale))
    return samples


def _join(sentences: list[str], rng: random.Random) -> str:
    """Sentences one after the other; after a Japanese sentence without any space, as Japanese is written."""
    text = sentences[0]
    for sentence in sentences[1:]:
        text += ("" if text.endswith("。") else rng.choice((" ", "\n"))) + sentence
    return text


# --- secrets in the real shapes ------------------------------------------------------------------

_B62 = string.ascii_letters + string.digits
_B64 = _B62 + "+/"


def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(rng: random.Random) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps({"sub": str(rng.randrange(10**9)), "iat": 1700000000 + rng.randrange(10**6)}).encode())
    return f"{header}.{payload}.{_b64url(rng.randbytes(32))}"


def _pem(rng: random.Random) -> str:
    label = rng.choice(("RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"))
    body = "\n".join(_rand(rng, _B64, 64) for _ in range(rng.randrange(3, 8)))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"


def secret_value(kind: str, rng: random.Random) -> str:
    """A fresh secret of `kind` (a key of `SECRET_TEMPLATES`)."""
    makers = {
        "openai": lambda: rng.choice(("sk-", "sk-proj-")) + _rand(rng, _B62 + "_-", rng.choice((48, 120))),
        "akia": lambda: "AKIA" + _rand(rng, string.ascii_uppercase + string.digits, 16),
        "aws_secret": lambda: _rand(rng, _B64, 40),
        "github": lambda: rng.choice(
            (
                "ghp_" + _rand(rng, _B62, 36),
                "gho_" + _rand(rng, _B62, 36),
                "ghs_" + _rand(rng, _B62, 36),
                "ghu_" + _rand(rng, _B62, 36),
                "github_pat_" + _rand(rng, _B62, 22) + "_" + _rand(rng, _B62, 59),
            )
        ),
        "slack": lambda: (
            f"xox{rng.choice('abpr')}-{rng.randrange(10**11, 10**12)}-{rng.randrange(10**11, 10**12)}-"
            + _rand(rng, _B62, 24)
        ),
        "google": lambda: "AIza" + _rand(rng, _B62 + "_-", 35),
        "stripe": lambda: rng.choice(("sk_live_", "rk_live_")) + _rand(rng, _B62, 24),
        "jwt": lambda: _jwt(rng),
        "pem": lambda: _pem(rng),
        "password": lambda: _password(rng),
        "api_key": lambda: _rand(rng, _B62, 32),
    }
    return makers[kind]()


def _password(rng: random.Random) -> str:
    return _rand(rng, _B62, rng.randrange(6, 12)) + rng.choice("!@#%^&*_+") + str(rng.randrange(10))


def secret_samples(rng: random.Random, per_kind: int) -> list[tuple[str, str]]:
    """(value, prompt) pairs: `per_kind` of every secret shape."""
    out: list[tuple[str, str]] = []
    for kind, templates in SECRET_TEMPLATES.items():
        for _ in range(per_kind):
            value = secret_value(kind, rng)
            out.append((value, rng.choice(templates).format(v=value)))
    return out


# --- prompts without PII -------------------------------------------------------------------------

CODE_SNIPPETS = (
    'password = request.form["password"]\nif not check_password_hash(user.pw_hash, password):\n    abort(401)',
    'api_key = os.environ["OPENAI_API_KEY"]\nclient = OpenAI(api_key=api_key)',
    "def login(username: str, password: str) -> bool:\n    return auth.verify(username, password)",
    "resp = client.chat.completions.create(model='gpt-4o', max_tokens=4096, temperature=0.2)",
    "token = get_token()\nheaders = {'Authorization': f'Bearer {token}'}",
    "SELECT id, total FROM orders WHERE created_at >= '2024-11-25' AND status = 'paid' LIMIT 100;",
    "for i in range(1000000):\n    acc += i * 0.5",
    "x = arr[1::2]\ny = matrix[:, 3]",
    "std::vector<int> v{1, 2, 3};\nstd::cout << v.size() << std::endl;",
    "const color = '#ff8800';\nconst border = '#1a2b3c';",
    "git commit -m 'fix' && git push origin main  # 9f2c1e7",
    "docker run -p 8080:80 -v /data:/data nginx:1.25.3",
    "chmod 755 deploy.sh && ./deploy.sh --retries 3 --timeout 30",
    "if (x == 0xDEADBEEF) { return -1; }",
    "CREATE TABLE invoices (id BIGSERIAL PRIMARY KEY, number VARCHAR(32), amount NUMERIC(12, 2));",
    "secret_name = 'prod/db/credentials'\nsecret = client.get_secret_value(SecretId=secret_name)",
    "password: ${DB_PASSWORD}\nuser: app\nhost: db.internal\nport: 5432",
    "api_key: <your-api-key>\nbase_url: https://api.example.com/v1",
    'DATABASE_URL = "postgresql://app@localhost:5432/app"',
    "assert hash(obj) == 1234567890123",
    "timeout_ms = 30000\nretries = 5\nbackoff = 1.5",
    "kubectl scale deployment web --replicas=12 -n prod",
    "np.random.seed(42)\nX = np.random.rand(1000, 128)",
    "git clone git@github.com:acme/app.git && cd app",
    "pip install 'requests>=2.31.0,<3' 'numpy==1.26.4'",
    "print(f'{value:,.2f}')  # 1,234,567.89",
    "const ttl = 60 * 60 * 24 * 7; // one week in seconds: 604800",
    "@app.route('/orders/<int:order_id>')\ndef show(order_id): ...",
    "auth_token = None\nrefresh_token = ''",
    "token: str = Field(..., min_length=32)",
)
_CLEAN_SENTENCES = (
    "Where is my order ORD-2024-{d6}? It was due on {date}.",
    "Invoice INV-{year}-{d5} is still unpaid; please send a reminder.",
    "Order #{d6} shipped on {date} at {time}.",
    "The meeting is on {date} at {time}, room 4B.",
    "Our price is ${price} per seat, or €{price_eu} in Europe.",
    "Revenue grew by {pct}% to {big} users in {year}.",
    "The request id is {uuid}, can you check the logs?",
    "Regression introduced in commit {sha} (short {sha7}).",
    "Use the brand colour {color} for the button.",
    "The book's ISBN is {isbn}.",
    "Upgrade from version {ver3} to {ver3b} before {date}.",
    "We run Python {py} and Node v{ver3}.",
    "Package tracking number: {tracking}.",
    "Deadline: {date2}, {time}.",
    "Coordinates: {lat}, {lon}",
    "The score was 3-1 and the aspect ratio 16:9.",
    "Set the timeout to {d5} ms and retry {small} times.",
    "Our warehouse holds {big} items in {small} aisles.",
    "Build {ver4} is deployed; see ticket JIRA-{d5}.",
    "Room {small}, floor {small}, building {d3}.",
    "Timestamp {epoch} corresponds to {iso}.",
    "Call the function with n={d6} and k={small}.",
    "The ZIP code is {zip} and the batch is B-{d6}.",
    "Error 0x{hex8} at address 0x{hex12}.",
    "Customer account ACC-{d8} was migrated on {date}.",
    'Parse this: {{"id": {snowflake}, "created_ms": {epoch_ms}, "count": {d5}}}',
    "{iso} INFO [worker-{small}] GET /api/orders/{d6} 200 latency_ms={d3} bytes={d5}",
    "Rows:\nregion,units,revenue\nnorth,{d5},{price}\nsouth,{d3},{price}",
    "| item | qty | price |\n|---|---|---|\n| SKU-{d6} | {small} | ${price} |",
    'Traceback: File "app.py", line {d3}, in handler; object at 0x{hex12}',
    "Requires numpy>={ver3},<{ver3b} and python_requires >= 3.10",
)


def _luhn_failing(rng: random.Random, n: int) -> str:
    from stdnum import luhn

    digits = _rand(rng, string.digits, n)
    while luhn.is_valid(digits):
        digits = _rand(rng, string.digits, n)
    return digits


def _tracking(rng: random.Random) -> str:
    digits = _luhn_failing(rng, rng.choice((12, 15, 20, 22)))
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4)) if rng.random() < 0.5 else digits


def _clean_values(fake: Faker, rng: random.Random) -> dict[str, str]:
    when = fake.date_time_between(start_date="-3y", end_date="+1y")
    return {
        "d3": str(rng.randrange(100, 1000)),
        "d5": str(rng.randrange(10**4, 10**5)),
        "d6": str(rng.randrange(10**5, 10**6)),
        "d8": str(rng.randrange(10**7, 10**8)),
        "year": str(when.year),
        "date": rng.choice((when.strftime("%Y-%m-%d"), when.strftime("%d/%m/%Y"), when.strftime("%m.%d.%Y"))),
        "date2": when.strftime("%d.%m.%Y"),
        "time": rng.choice((when.strftime("%H:%M"), when.strftime("%H:%M:%S"))),
        "iso": when.isoformat() + "Z",
        "epoch": str(int(when.timestamp())),
        "epoch_ms": str(int(when.timestamp() * 1000)),
        "snowflake": str(rng.randrange(10**18, 2 * 10**18)),  # Twitter/Discord-style 64-bit ids
        "price": f"{rng.randrange(1, 5000):,}.{rng.randrange(100):02d}",
        "price_eu": f"{rng.randrange(1, 5000)},{rng.randrange(100):02d}",
        "pct": f"{rng.uniform(0, 99):.1f}",
        "big": f"{rng.randrange(10**4, 10**7):,}",
        "small": str(rng.randrange(1, 50)),
        "uuid": fake.uuid4(),
        "sha": fake.sha1(),
        "sha7": fake.sha1()[:7],
        "color": fake.hex_color(),
        "isbn": rng.choice((fake.isbn13(), fake.isbn10())),
        "ver3": f"{rng.randrange(10)}.{rng.randrange(30)}.{rng.randrange(30)}",
        "ver3b": f"{rng.randrange(10)}.{rng.randrange(30)}.{rng.randrange(30)}",
        "ver4": f"v{rng.randrange(10)}.{rng.randrange(30)}.{rng.randrange(30)}.{rng.randrange(9999)}",
        "py": f"3.{rng.randrange(8, 14)}.{rng.randrange(10)}",
        "tracking": _tracking(rng),
        "lat": f"{rng.uniform(-90, 90):.4f}",
        "lon": f"{rng.uniform(-180, 180):.4f}",
        "zip": fake.postcode() if hasattr(fake, "postcode") else "94107",
        "hex8": _rand(rng, "0123456789ABCDEF", 8),
        "hex12": _rand(rng, "0123456789abcdef", 12),
    }


def clean_texts(count: int = 600, seed: int = 4321) -> list[str]:
    """Prompts with no PII: code, order/invoice/tracking numbers, dates, times, prices, UUIDs, SHAs …"""
    rng = random.Random(seed)
    fakers = []
    for index, locale in enumerate(LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed + index)
        fakers.append(fake)
    texts: list[str] = []
    while len(texts) < count:
        fake = rng.choice(fakers)
        if rng.random() < 0.25:
            body = "Why does this code fail?\n```\n" + rng.choice(CODE_SNIPPETS) + "\n```"
        else:
            values = _clean_values(fake, rng)
            body = " ".join(rng.choice(_CLEAN_SENTENCES).format(**values) for _ in range(rng.randrange(1, 4)))
        if rng.random() < 0.5:
            body = fake.sentence() + " " + body
        texts.append(body)
    return texts
