"""What the words around a run of digits say: a phone word nearby (in the languages people write
tickets in), an identifier's word right before it (order, invoice, tracking …), a currency after it,
or a table column headed "Phone".

Decision: a phone word makes any phone-shaped run a phone number, valid by the numbering plan or
not (people write a number they are told, not one libphonenumber knows), unless the word right
before the run names it as something else: "please call me about order 780115701" is an order.
Every search here is a bounded regex over a bounded window, so the cost per candidate is bounded.
"""

from __future__ import annotations

import re

CONTEXT_BEFORE = 48
CONTEXT_AFTER = 30
ID_BEFORE = 32
TABLE_LOOKBACK = 400  # how far back a table's header row is looked for
TABLE_LINES = 8


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that announce a phone number: English, German, French, Italian, Dutch, Spanish, Portuguese,
# Polish, Swedish, Danish/Norwegian, Japanese; a word counts when it starts with one of `_PHONE_STEMS`
# or is one of `_PHONE_WORDS`. "number" words only after a possessive ("my number", "mon numéro"):
# alone they precede order numbers as often. Words are looked up in sets, not matched by one big
# alternation: a regex trying 80 alternatives at every position cost ~100 µs per candidate.
_PHONE_STEMS = _word_set(
    "phone telephone cellphone smartphone call ring mobile cell whatsapp fax contact reach dial hotline "
    "helpline landline switchboard voicemail sms telefon handy anruf ruf rückruf erreich festnetz "
    "durchwahl zentrale mobil ansprech kontakt téléphone telephone portable appel rappel joindre telefono "
    "teléfono cellulare chiam richiam fisso recapito reperibil telefoon mobiel bellen terugbel bereikbaar "
    "móvil movil llam llám fijo localiz telemóvel telemovel celular ligar ligue liga contacto contato "
    "fixo chamad chamar komórk komork dzwo zadzwo oddzwo stacjonarn växel mobilnummer"
)
_PHONE_WORDS = frozenset(["tel", "tél", "tlf", "tfn", "mob", "fon", "bel", "gsm", "fixe"])
_PHRASES = frozenset({("text", "me"), ("nå", "mig"), ("direct", "line"), ("vast", "nummer"), ("mi", "trovi")})
_PHRASE_STEMS = (("mi", "trov"),)
_POSSESSIVES = _word_set(
    "my his her their your our mon ma son sa votre mio mia tuo mijn uw mi su meu minha mój moje mitt min"
)
_NUMBER_WORDS = frozenset(["number", "numéro", "numero", "nummer", "número", "numer"])
_CJK_PHONE = ("電話", "携帯")
_WORDS = re.compile(r"[^\W\d_]+")
_SHORTEST_STEM = min(map(len, _PHONE_STEMS))
_LONGEST_STEM = max(map(len, _PHONE_STEMS))


def _is_phone_word(word: str) -> bool:
    if word in _PHONE_WORDS:
        return True
    return any(word[:n] in _PHONE_STEMS for n in range(_SHORTEST_STEM, min(len(word), _LONGEST_STEM) + 1))


def _says_phone(text: str, start: int, end: int) -> bool:
    """Whether `text[start:end]` holds a phone word or phrase."""
    window = text[start:end]
    if any(mark in window for mark in _CJK_PHONE):
        return True
    words = [w.lower() for w in _WORDS.findall(window)]
    for index, word in enumerate(words):
        if _is_phone_word(word):
            return True
        if index:
            pair = (words[index - 1], word)
            if pair in _PHRASES or (pair[0] in _POSSESSIVES and word in _NUMBER_WORDS):
                return True
            if any(pair[0] == first and word.startswith(stem) for first, stem in _PHRASE_STEMS):
                return True
    return False


# Where a sentence ends: a phone word in the sentence before says nothing about this one. A question
# does not end the context ("a number to reach you?" … "sure, 0612345678"), nor does a line break.
# Abbreviations ("Tel. 0612…", "tel. kom.") are not sentence ends: the next sentence starts with a capital.
_SENTENCE_END = re.compile(r"(?:\b[a-zà-ÿ]{3,}|\w{5,})[.!;]\s+(?=[A-ZÀ-ÖØ-Þ])")
# A one-letter label in a signature or a form: "T +44 …", "M: 07…", "Tel/Fax".
_LABEL_BEFORE = re.compile(r"(?:^|[\s|,;(])[TMFPW]\.?:?[ \t]?\Z")
# The word right before a run saying what else it is, on the same line, with "no.", "nr", "#", ":",
# "is", "the" allowed in between ("Order no. 123", "ISBN is 978…"), or a `key=` (`bytes=5263398`).
_ID_WORDS = _word_set(
    "order orders invoice inv ticket case ref reference account acct customer client contract konto conto "
    "cuenta compte rekening blz bic siret siren tracking shipment parcel package serial id po sku item "
    "booking reservation policy claim transaction receipt build version commit batch lot isbn iban vat "
    "tax zip postcode pin otp code timestamp epoch ts uid uuid hash checksum size bytes count bestellung "
    "bestellnummer rechnung rechnungsnummer auftrag kundennummer kunden vertrag vertragsnummer "
    "sendungsnummer sendung vorgang aktenzeichen artikel commande facture dossier colis contrat suivi "
    "référence reference ordine fattura pratica spedizione contratto codice bestelling factuur zending "
    "klantnummer ordernummer pedido factura expediente envío envio seguimiento contrato encomenda fatura "
    "processo seguimento cliente zamówienia zamówienie faktury faktura przesyłki przesyłka umowy umowa "
    "sprawy sprawa ärende arende spårningsnummer kundnummer"
)
_FILLERS = _word_set(
    "no n nr n° nº number numéro nummer numero número numer id is was ist war est è e es era é jest był "
    "är var the le la il el o a"
)
_ID_TOKENS = re.compile(r"[^\W_]+[°º]?|[^\w\s]")
_PUNCT_BETWEEN = frozenset(":#.=-/")
_MONEY_AFTER = re.compile(r"\s?(?:[€$£¥%‰]|(?:EUR|USD|GBP|CHF|PLN|SEK|NOK|DKK|kr|zł|z[łl]otych|euros?)\b)")
_TABLE_RULE = re.compile(r"^[\s|:+-]*$")


def has_phone_context(text: str, start: int, end: int) -> bool:
    """Whether a phone word stands shortly before or after `text[start:end]`, or a one-letter label
    ("T", "M:") right before it."""
    if _LABEL_BEFORE.search(text, max(0, start - 4), start) is not None:
        return True
    before = max(0, start - CONTEXT_BEFORE)
    for stop in _SENTENCE_END.finditer(text, before, start + 1):
        before = stop.end()
    after = _SENTENCE_END.search(text, end, end + CONTEXT_AFTER)
    return _says_phone(text, before, start) or _says_phone(text, end, after.start() if after else end + CONTEXT_AFTER)


def named_as_identifier(text: str, start: int) -> bool:
    """Whether the word right before `start` calls the run an order, invoice, tracking number …"""
    window = text[max(0, start - ID_BEFORE) : start]
    window = window[window.rfind("\n") + 1 :]
    tokens = _ID_TOKENS.findall(window)
    if tokens and tokens[-1] == "=" and len(tokens) > 1:
        return not _is_phone_word(tokens[-2].lower())  # `bytes=5263398` yes, `tel=0612…` no
    for token in reversed(tokens[-6:]):
        word = token.lower()
        if word in _ID_WORDS:
            return True
        if word not in _FILLERS and word not in _PUNCT_BETWEEN:
            return False
    return False


def money_after(text: str, end: int) -> bool:
    """Whether a currency or percent sign follows: an amount written with spaces, not a phone."""
    return _MONEY_AFTER.match(text, end) is not None


def column_header(text: str, start: int) -> str | None:
    """The header of the table column `start` lies in (markdown `|`, tab, comma or semicolon separated),
    looked for at most `TABLE_LINES` lines and `TABLE_LOOKBACK` characters above; None outside a table."""
    line_start = text.rfind("\n", max(0, start - TABLE_LOOKBACK), start) + 1
    row = text[line_start:start]
    separator = next((s for s in ("|", "\t", ",", ";") if s in row), None)
    if separator is None:
        return None
    column = row.count(separator)
    window_start = max(0, start - TABLE_LOOKBACK)
    lines = text[window_start:line_start].split("\n")[-TABLE_LINES - 1 : -1]
    header = None
    for line in reversed(lines):
        if separator not in line:
            break
        if not _TABLE_RULE.match(line):
            header = line
    if header is None:
        return None
    cells = header.split(separator)
    return cells[column] if column < len(cells) else None


def header_says_phone(header: str) -> bool:
    return _says_phone(header, 0, len(header))


def header_says_identifier(header: str) -> bool:
    header = header.strip() + " "
    return named_as_identifier(header, len(header))
