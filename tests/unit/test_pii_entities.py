"""Person names and postal addresses (aigw.context.pii.entities): per language, false-positive guards,
and the rules' cost on adversarial text (linear: RE2 scans and bounded checks per match)."""

from __future__ import annotations

import time

import pytest

from aigw.context.pii import PIIDetector, PIIType
from aigw.context.pii.entities import find_entities
from aigw.context.pii.entities.address import find_addresses
from aigw.context.pii.entities.person import find_persons
from aigw.context.pii.policy import detector_for
from aigw.settings import STRUCTURED_PII

BOTH = frozenset({"PERSON", "ADDRESS"})


def _values(text: str, kind: PIIType) -> list[str]:
    return [f.value for f in find_entities(text, BOTH) if f.type is kind]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Hi Anna,\nthanks for the quick answer.", "Anna"),
        ("Dear Mr. Whitfield, your order has shipped.", "Whitfield"),
        ("Thanks for the help!\n\nBest regards,\nJohn Smith", "John Smith"),
        ("Sehr geehrte Frau Weber,\nanbei die Rechnung.", "Weber"),
        ("Vielen Dank.\nMit freundlichen Grüßen\nMax Mustermann", "Max Mustermann"),
        ("Bonjour M. Dupont, voici le devis. Cordialement,\nClémence Delaunay", "Dupont"),
        ("Nom : Jean-Baptiste Morel\nObjet : remboursement", "Jean-Baptiste Morel"),
        ("Gentile Sig. Bianchi, la pratica è chiusa.", "Bianchi"),
        ("Hola, me llamo Lucía Fernández y tengo un problema.", "Lucía Fernández"),
        ("Nombre: Segismundo Burgos Pavón", "Segismundo Burgos Pavón"),
        ("Geachte heer Jansen, hierbij de offerte.", "Jansen"),
        ("Met vriendelijke groet,\nSjoerd van der Leek", "Sjoerd van der Leek"),
        ("Dzień dobry, nazywam się Wojciech Drobot.", "Wojciech Drobot"),
        ("Szanowna pani Marika Semenowicz, dziękujemy.", "Marika Semenowicz"),
        ("Hej Torsten!\nMed vänliga hälsningar\nAnette Johansson", "Anette Johansson"),
        ("Olá, o meu nome é Joaquim Pinheiro.", "Joaquim Pinheiro"),
        ("Please forward the invoice to Anna Kowalska before Friday.", "Anna Kowalska"),
        ("| Name: | Karen Hopkins |", "Karen Hopkins"),
    ],
)
def test_names_in_nine_languages(text: str, name: str) -> None:
    found = _values(text, PIIType.PERSON) + _values(text, PIIType.ADDRESS)
    assert any(name in value for value in found), (name, found)


@pytest.mark.parametrize(
    "address",
    [
        "754 Laura Square Apt. 194\nGoldenmouth, LA 80318",
        "12 Baker Street, London NW1 6XE",
        "Flat 79D\nHodgson Underpass\nLake Norman\nM8 5TN",
        "Ellinor-Haering-Straße 6-8\n54323 Rockenhausen",
        "Berliner Straße 10, 10115 Berlin",
        "89, chemin Paul Arnaud\n89898 Faure",
        "Via Stefanelli, 60\n12076, Lesegno (CN)",
        "Angelinaring 52\n9601 KY\nMeliskerke",
        "Kerkstraat 12, 1017 GC Amsterdam",
        "Paseo Leticia Barros 409 Piso 8\nVizcaya, 21587",
        "ul. Batalionów Chłopskich 86/57\n75-946 Sanok",
        "Kyrkovägen 913\n499 60 Örnsköldsvik",
        "Avenida Fonseca, 11\n8974-650 Funchal",
        "Am Sandtorkai 41, 20457 Hamburg",  # no street word: the postcode and city after it tell
        "Herengracht 182\n1016 BR Amsterdam",
        "Drottninggatan 5, 111 51 Stockholm",
    ],
)
def test_whole_addresses_in_ten_locales(address: str) -> None:
    text = f"Please ship it to\n{address}\nbefore noon."
    found = find_entities(text, BOTH)
    start = text.index(address)
    covered = {i for f in found if f.type is PIIType.ADDRESS for i in range(f.start, f.end)}
    missing = [text[i] for i in range(start, start + len(address)) if i not in covered and not text[i].isspace()]
    assert missing == [], (address, [(f.type, f.value) for f in found])


@pytest.mark.parametrize(
    "text",
    [
        "The quarterly report shows revenue grew 12% in Spring 2024; see Project Plan 2 and the 3 Key Points.",
        "Order ORD-2024-118823 shipped on 25/11/2024 at 14:30 via DHL Express.",
        "Main Street Capital and Wall Street Journal coverage drove 200 new signups.",
        "Hi team,\nthe release is out. Thanks, great work!\nBest,\nThe Support Team",
        "Dear Customer, your subscription renews on 1 May.",
        "Step 3: open Settings > Billing > Invoices and click Download PDF.",
        "Our offices in Berlin, Paris and Madrid close at 18:00.",
        "Upgrade to Windows Server 2022 and restart the service on port 8080.",
        "Release Notes 4 list 12 fixes; Build 20457 ran in Team City.",
        "Kundennummer 703685575, Vertrag 5175-3219-3225, Betrag 1 134 640,33 €.",
    ],
)
def test_pii_free_business_text_is_left_alone(text: str) -> None:
    assert find_entities(text, BOTH) == []


def test_rules_alone_find_cued_names_and_addresses() -> None:
    text = "Hi Anna,\nship to 12 Baker Street, London NW1 6XE.\nBest regards,\nJohn Smith"
    persons = {text[s:e] for s, e in find_persons(text)}
    assert {"Anna", "John Smith"} <= persons
    assert [text[s:e] for s, e in find_addresses(text)] == ["12 Baker Street, London NW1 6XE"]


def test_only_the_kinds_asked_for_and_unknown_kinds_refused() -> None:
    text = "Dear Mr. Whitfield, we moved to 12 Baker Street, London NW1 6XE."
    assert {f.type for f in find_entities(text, frozenset({"PERSON"}))} == {PIIType.PERSON}
    assert {f.type for f in find_entities(text, frozenset({"ADDRESS"}))} == {PIIType.ADDRESS}
    with pytest.raises(ValueError, match="unknown entity kinds"):
        find_entities(text, frozenset({"NAME"}))


def test_detector_for_a_type_set() -> None:
    assert detector_for(frozenset(STRUCTURED_PII)) is detector_for(frozenset(STRUCTURED_PII))
    everything = detector_for(frozenset((*STRUCTURED_PII, "PERSON", "ADDRESS")))
    text = "Dear Mr. Whitfield, mail me at w@example.com; I live at 12 Baker Street, London NW1 6XE."
    assert {f.type for f in everything.detect(text)} == {PIIType.PERSON, PIIType.EMAIL, PIIType.ADDRESS}
    emails_only = detector_for(frozenset({"EMAIL"}))
    assert [f.type for f in emails_only.detect(text)] == [PIIType.EMAIL]
    assert isinstance(everything, PIIDetector) and everything.entities == {"PERSON", "ADDRESS"}


_ADVERSARIAL = [
    "Hi Anna Bell ",
    "Dear Mr. Mr. Mr. ",
    "12 Main Street ",
    "Aaaa Bbbb Cccc Dddd Eeee ",
    "ul. ul. ul. Długa 1/2 ",
    "12345 Berlin, 12345 Berlin\n",
    "Flat 1\nFlat 2\n",
    "rue de la de la de la ",
    "Best regards,\n",
    "1234 AB 1234 AB ",
    "A-A-A-A-A-A-A-A-A-A ",
    "Straßestraßestraße 5 ",
    "X" * 40 + " ",
    "9" * 100 + " ",
]


@pytest.mark.parametrize("piece", _ADVERSARIAL)
def test_rules_cost_is_linear_on_adversarial_text(piece: str) -> None:
    """CPU per KiB of the rules (no model) on 16 and 64 KiB of one repeated shape: the larger text may
    not cost much more per KiB than the smaller (no super-linear case), and stays within a bound."""

    def per_kib(kib: int) -> float:
        text = (piece * (kib * 1024 // len(piece) + 1))[: kib * 1024]
        started = time.thread_time()
        find_persons(text)
        find_addresses(text)
        return (time.thread_time() - started) * 1000 / kib

    per_kib(4)  # warm-up
    small, large = per_kib(16), per_kib(64)
    assert large < max(small, 0.5) * 3, (piece, small, large)
    assert large < 25, (piece, large)  # ms per KiB; ordinary prose costs ~0.3 on the 2-core VM


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("CRM note: spoke to Bridges, Thomas, wants a quote for 8 seats.", "Bridges, Thomas"),
        ("| employee | ssn |\n|---|---|\n| Hill, Sarah | 137-45-7141 |", "Hill, Sarah"),
        ("Social security number: 073-18-1666\nName: Burke, Katelyn", "Burke, Katelyn"),
        ("Best regards,\nPotter, Bruce\nAccount Manager", "Potter, Bruce"),
    ],
)
def test_surname_first_names_are_masked_whole(text: str, name: str) -> None:
    found = _values(text, PIIType.PERSON)
    assert name in found, found


def test_a_cued_full_name_does_not_take_the_word_after_its_comma() -> None:
    assert _values("Name: Anna Smith, Berlin", PIIType.PERSON) == ["Anna Smith"]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Emergency contact: Mrs Catherine George, cell +44 20 7946 0018", "Mrs Catherine George"),
        ("Hallo, hier ist Susan Liebelt B.A.. Bitte rufen Sie mich an.", "Susan Liebelt B.A."),
        ("Rückrufbitte: Prof. Judith Fechner MBA., Rufnummer 0800 5861291", "Prof. Judith Fechner MBA."),
        ("Notiz: Gespräch mit Dipl.-Ing. Hildegund Mentzel, möchte ein Angebot", "Dipl.-Ing. Hildegund Mentzel"),
        ("Nicholas Mays II asked us to move the meeting.", "Nicholas Mays II"),
        ("Ticket #417634: el cliente Leandro Batlle Prado (jordi82@example.com) informa", "Leandro Batlle Prado"),
        ("Bitte überweisen Sie den Betrag, Kontoinhaber Holsten, Mehdi.", "Holsten, Mehdi"),
        ("Devolver llamada a Marisa Juliá Jiménez por la factura.", "Marisa Juliá Jiménez"),
        ("Hola, soy Rosalva Tudela Solera. ¿Me pueden llamar?", "Rosalva Tudela Solera"),
    ],
)
def test_titles_degrees_roles_and_greeted_introductions_mark_names(text: str, name: str) -> None:
    assert name in _values(text, PIIType.PERSON), [(f.type, f.value) for f in find_entities(text, BOTH)]


def test_a_role_before_one_capitalised_word_is_not_a_name() -> None:
    assert find_persons("The customer Support replied; der Kunde Rechnung.") == []
