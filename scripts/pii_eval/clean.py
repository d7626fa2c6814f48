"""PII-free texts: the numbers tickets and chats are full of that are not personal data.

Dates, times, versions, order, invoice and ticket numbers, prices and amounts in each locale's
style, tracking codes, ISBNs, timestamps, ports, hex ids, build numbers and durations, often next
to a phone word ("call me about order 48213377"), which is where a detector that trusts phone
words too much goes wrong. No names or addresses either, so the same texts measure the entity
detector's false positives.
"""

from __future__ import annotations

import random
import string

from faker import Faker

from .corpus import LOCALES, SINCE, UNTIL, Doc, language

_SENTENCES: dict[str, tuple[str, ...]] = {
    "en": (
        "Please call me about order {order}, it was due on {date}.",
        "Invoice {invoice} for {price} is overdue since {date}.",
        "Can you phone the warehouse? Tracking number {tracking}, shipped {date} at {time}.",
        "Upgrade from version {ver} to {ver2} before {date}; build {build} is broken.",
        "The book's ISBN is {isbn}, list price {price}.",
        "Revenue grew {pct}% to {amount} in {year}; {count} customers renewed.",
        "Ticket {ticket} reopened at {time}: the mobile app crashes on launch.",
        "Reach the API on localhost:{port}, timeout {ms} ms, {count} retries.",
        "Error 0x{hex8} at offset 0x{hex12}; request id {uuid}.",
        "Call duration {duration}, queue time {time2}, {count} calls waiting.",
        "{iso} INFO GET /orders/{order} 200 {ms}ms bytes={bytes}",
        "| order | date | total |\n|---|---|---|\n| {order} | {date} | {price} |",
        "Timestamp {epoch} ({iso}); snowflake id {snowflake}.",
        "Customer account {account} moved to plan B{count} on {date}.",
        "Reference {ref}, amount {amount}, due {date}.",
    ),
    "de": (
        "Bitte rufen Sie mich wegen Bestellung {order} an, Liefertermin war der {date}.",
        "Rechnung {invoice} über {price} ist seit {date} offen.",
        "Sendungsnummer {tracking}, versendet am {date} um {time} Uhr.",
        "Update von Version {ver} auf {ver2} bis {date}; Build {build} ist defekt.",
        "Umsatz {amount}, {count} Kunden, Stand {date}.",
        "Telefonat vom {date}, Dauer {duration}, Vorgang {ticket}.",
        "Kundennummer {account}, Vertrag {ref}, Betrag {price}.",
    ),
    "fr": (
        "Merci de m'appeler au sujet de la commande {order}, prévue le {date}.",
        "La facture {invoice} de {price} est impayée depuis le {date}.",
        "Numéro de suivi {tracking}, expédié le {date} à {time}.",
        "Passer de la version {ver} à {ver2} avant le {date} ; build {build} cassé.",
        "Appel du {date} : durée {duration}, dossier {ticket}.",
        "Client {account}, contrat {ref}, montant {price}.",
    ),
    "it": (
        "Chiamatemi per l'ordine {order}, consegna prevista il {date}.",
        "La fattura {invoice} di {price} è scaduta il {date}.",
        "Codice di tracciamento {tracking}, spedito il {date} alle {time}.",
        "Aggiornare dalla versione {ver} alla {ver2} entro il {date}.",
        "Telefonata del {date}, durata {duration}, pratica {ticket}.",
    ),
    "nl": (
        "Bel me even over bestelling {order}, levering was {date}.",
        "Factuur {invoice} van {price} staat open sinds {date}.",
        "Trackingnummer {tracking}, verzonden op {date} om {time}.",
        "Update van versie {ver} naar {ver2} voor {date}.",
        "Gesprek van {date}, duur {duration}, dossier {ticket}.",
    ),
    "es": (
        "Llámame por el pedido {order}, la entrega era el {date}.",
        "La factura {invoice} de {price} vence el {date}.",
        "Número de seguimiento {tracking}, enviado el {date} a las {time}.",
        "Actualizar de la versión {ver} a la {ver2} antes del {date}.",
        "Llamada del {date}, duración {duration}, expediente {ticket}.",
    ),
    "pl": (
        "Proszę zadzwonić w sprawie zamówienia {order}, termin dostawy {date}.",
        "Faktura {invoice} na kwotę {price} jest nieopłacona od {date}.",
        "Numer przesyłki {tracking}, nadana {date} o {time}.",
        "Aktualizacja z wersji {ver} do {ver2} do {date}.",
        "Rozmowa z {date}, czas {duration}, sprawa {ticket}.",
    ),
    "sv": (
        "Ring mig angående order {order}, leverans var {date}.",
        "Faktura {invoice} på {price} förföll {date}.",
        "Spårningsnummer {tracking}, skickat {date} kl. {time}.",
        "Uppgradera från version {ver} till {ver2} före {date}.",
        "Samtal {date}, längd {duration}, ärende {ticket}.",
    ),
    "pt": (
        "Liguem-me sobre a encomenda {order}, a entrega era a {date}.",
        "A fatura {invoice} de {price} venceu a {date}.",
        "Número de seguimento {tracking}, enviado a {date} às {time}.",
        "Atualizar da versão {ver} para a {ver2} antes de {date}.",
        "Chamada de {date}, duração {duration}, processo {ticket}.",
    ),
}
_EURO = {"de", "fr", "it", "nl", "es", "pl", "sv", "pt"}


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _tracking(rng: random.Random) -> str:
    kinds = (
        lambda: "1Z" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16)),
        lambda: "".join(rng.choice(string.digits) for _ in range(rng.choice((12, 14, 20, 22)))),
        lambda: " ".join("".join(rng.choice(string.digits) for _ in range(4)) for _ in range(rng.choice((3, 5)))),
        lambda: f"JJD{rng.randrange(10**17, 10**18)}",
        lambda: f"RR{rng.randrange(10**8, 10**9)}DE",
    )
    return rng.choice(kinds)()


def _values(fake: Faker, lang: str, rng: random.Random) -> dict[str, str]:
    when = fake.date_time_between(start_date=SINCE, end_date=UNTIL)
    euro = lang in _EURO
    amount = rng.randrange(100, 10**7)
    cents = rng.randrange(100)
    thousands = f"{amount:,}".replace(",", rng.choice((".", " ", "\u00a0")) if euro else ",")
    price = f"{thousands},{cents:02d} €" if euro else f"${thousands}.{cents:02d}"
    return {
        "order": rng.choice(
            (
                str(rng.randrange(10**6, 10**9)),
                f"ORD-{when.year}-{rng.randrange(10**5, 10**6)}",
                f"#{rng.randrange(10**5, 10**7)}",
                f"{rng.randrange(100, 999)}-{rng.randrange(10**6, 10**7)}",
            )
        ),
        "invoice": rng.choice(
            (
                f"INV-{when.year}-{rng.randrange(10**4, 10**5)}",
                f"{when.year}/{rng.randrange(10**3, 10**5)}",
                f"RE{rng.randrange(10**7, 10**9)}",
            )
        ),
        "date": rng.choice(
            (
                when.strftime("%d.%m.%Y"),
                when.strftime("%Y-%m-%d"),
                when.strftime("%d/%m/%Y"),
                when.strftime("%d-%m-%Y"),
                when.strftime("%m/%d/%y"),
            )
        ),
        "time": rng.choice((when.strftime("%H:%M"), when.strftime("%H:%M:%S"), when.strftime("%H.%M"))),
        "time2": f"{rng.randrange(60)}:{rng.randrange(60):02d}",
        "duration": f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}",
        "year": str(when.year),
        "tracking": _tracking(rng),
        "ver": f"{rng.randrange(10)}.{rng.randrange(30)}.{rng.randrange(30)}",
        "ver2": f"{rng.randrange(10)}.{rng.randrange(30)}.{rng.randrange(100)}",
        "build": f"{rng.randrange(10)}.{rng.randrange(10)}.{rng.randrange(10)}.{rng.randrange(10**4)}",
        "isbn": rng.choice((fake.isbn13(), fake.isbn10())),
        "price": price,
        "amount": thousands,
        "pct": f"{rng.uniform(0, 60):.1f}",
        "count": str(rng.randrange(2, 5000)),
        "ticket": rng.choice(
            (
                f"TCK-{rng.randrange(10**5, 10**7)}",
                f"#{rng.randrange(10**4, 10**6)}",
                f"INC{rng.randrange(10**6, 10**7)}",
            )
        ),
        "port": str(rng.choice((80, 443, 5432, 6379, 8080, 8443, 9200))),
        "ms": str(rng.randrange(1, 30000)),
        "bytes": str(rng.randrange(100, 10**7)),
        "hex8": _hex(rng, 8).upper(),
        "hex12": _hex(rng, 12),
        "uuid": fake.uuid4(),
        "iso": when.isoformat(timespec="seconds") + "Z",
        "epoch": str(int(when.timestamp())),
        "snowflake": str(rng.randrange(10**18, 2 * 10**18)),
        "account": rng.choice(
            (
                f"ACC-{rng.randrange(10**7, 10**8)}",
                f"{rng.randrange(10**7, 10**9)}",
                f"KD-{rng.randrange(10**5, 10**6)}",
            )
        ),
        "ref": rng.choice(
            (
                f"REF/{when.year}/{rng.randrange(10**3, 10**5)}",
                f"{rng.randrange(10**3, 10**4)}-{rng.randrange(10**3, 10**4)}-{rng.randrange(10**3, 10**4)}",
            )
        ),
    }


def clean_docs(seeds: tuple[int, ...], per_locale: int = 60) -> list[Doc]:
    """PII-free texts: per seed and locale, `per_locale` texts of one to three sentences of the
    locale's language (a quarter of them English)."""
    docs: list[Doc] = []
    for seed in seeds:
        for index, locale in enumerate(LOCALES):
            rng = random.Random(f"clean:{seed}:{locale}")
            fake = Faker(locale)
            fake.seed_instance(seed * 1000 + index)
            lang = language(locale)
            for _ in range(per_locale):
                pool = _SENTENCES["en"] if rng.random() < 0.25 else _SENTENCES[lang]
                text = " ".join(rng.choice(pool).format(**_values(fake, lang, rng)) for _ in range(rng.randrange(1, 4)))
                docs.append(Doc(text, (), locale, "clean"))
    return docs
