"""context/pii phones: shapes people write (valid by the numbering plan or not), phone words in ten
languages, table columns, and the vetoes that keep order numbers, dates, amounts and ISBNs unmasked."""

from __future__ import annotations

import pytest

from aigw.context.pii import PIIDetector, PIIType, detect
from aigw.context.pii.budget import WorkBudget
from aigw.context.pii.numbers import is_date
from aigw.context.pii.phone_context import column_header, has_phone_context, named_as_identifier
from aigw.context.pii.phone_shapes import grouped_like_a_phone, phone_shape


def _phones(text: str) -> list[str]:
    return [f.value for f in detect(text) if f.type is PIIType.PHONE]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # the held-out failures of issue 13
        ("you can reach me at 2125550143 tomorrow", "2125550143"),
        ("Phone: (01632) 960 253 (home)", "(01632) 960 253"),
        ("Office (000) 8113432, ask for Dana", "(000) 8113432"),
        ("text me on +44292018057 when you land", "+44292018057"),
        ("Rückruf bitte unter (00492) 58991, danke", "(00492) 58991"),
        ("Zentrale 00695 848304", "00695 848304"),
        # no phone word: the shape alone
        ("Anna, 0171/2345678, Berlin", "0171/2345678"),
        ("Anna, 070-123 45 67, Göteborg", "070-123 45 67"),
        ("Anna, 01.45.67.89.10, Paris", "01.45.67.89.10"),
        ("Anna, 0612345678, Lyon", "0612345678"),
        ("Anna (351) 919825979", "(351) 919825979"),
        ("Anna (22) 123 45 67", "(22) 123 45 67"),
        ("Anna +0479542004473", "+0479542004473"),
        ("Anna, 736 55 57 35, Madrid", "736 55 57 35"),
        ("Anna, 0034 841 96-87-70", "0034 841 96-87-70"),
        ("Anna, 0031690103792", "0031690103792"),
        ("Anna, 3486 696308, Roma", "3486 696308"),
        # a phone word in each language, the number invalid or bare
        ("Please call me on 4144204468.", "4144204468"),
        ("Meine Handynummer: 9538983093730", "9538983093730"),
        ("Vous pouvez me joindre au 0632718818", "0632718818"),
        ("Il mio cellulare è 347 1234567", "347 1234567"),
        ("Bel me op 0612345678", "0612345678"),
        ("Mi móvil es el 612 34 56 78", "612 34 56 78"),
        ("Proszę dzwonić na komórkę 512 345 678", "512 345 678"),
        ("Ring mig på 08-89 91 39", "08-89 91 39"),
        ("Devolver chamada a Leonor (912345678)", "912345678"),
        ("Oddzwonić do Olgierda (8087611696136)", "8087611696136"),
        ("Best regards,\nAnna\nT 53.16.26.54.79", "53.16.26.54.79"),
        ("Telefon: 0819 24-02-84", "0819 24-02-84"),
        ("Festnetz: 030 - 901 820 0", "030 - 901 820 0"),
        ("Richiamare Dott. Giovanna Barsanti (350071794)", "350071794"),
    ],
)
def test_phone_shapes_and_words(text: str, value: str) -> None:
    assert _phones(text) == [value]


def test_a_column_headed_phone_is_a_phone_word() -> None:
    table = "| Name | Phone | Email |\n|---|---|---|\n| Anna Berg | 8639888274581 | a@example.org |"
    assert _phones(table) == ["8639888274581"]
    csv = "name,telefon,city\nAnna Berg,9826046600687,Berlin"
    assert _phones(csv) == ["9826046600687"]
    assert column_header(table, table.index("8639")) == " Phone "
    assert column_header("no table here 123", 14) is None


@pytest.mark.parametrize(
    "text",
    [
        "Please call me about order 780115701, it was due on 2027-07-08.",
        "Bitte rufen Sie mich wegen Bestellung 788795617 an.",
        "Llámame por el pedido 562-4029543, la entrega era el 05.04.2025.",
        "Liguem-me sobre a encomenda 912345678 de 12/03/2024",
        "Can you phone the warehouse? Tracking number 7907 0700 7740, shipped 10/02/24.",
        "| order | date | total |\n|---|---|---|\n| 464-2914877 | 24-11-2025 | $7,903.19 |",
        "The call lasted 00:14:32 and cost $12.50.",
        "Call duration 20:24:43, 1731 calls waiting. The book's ISBN is 0-7654-6507-8.",
        "Mobile app crashes on launch. Timestamp 1753410483 (2025-07-25T02:28:03Z)",
        "GET /orders/12545289 200 29976ms bytes=1737505 (mobile client)",
        "Meeting 2024-11-25 14:30-15:30 UTC, room 4.12",
        "Population 8 336 817 (2022), call us for details",
        "Montant : 12 345 678,90 € au 25/11/2024, appelez-nous",
        "Importo 1.234,56 € - fattura n. 2024/000123 del 01/02/2024",
        "Kundennummer 0012345678, Vertragsnummer 987654321",
        "Reference 2133-8445-1932, amount 9,435,284, due 01.06.2025.",
        "Coordinates 48.858370, 2.294481; call the site office",
        "256.1.1.1 and 01.02.03.04 are not addresses",
        "Numer przesyłki 32957515640335, nadana 13-05-2025",
        "Número de seguimento 581427026223, enviado a 27-12-2023",
    ],
)
def test_identifiers_dates_amounts_and_isbns_stay(text: str) -> None:
    assert detect(text) == [], detect(text)


def test_phone_word_context_stops_at_a_sentence_end_but_not_an_abbreviation() -> None:
    text = "Ticket reopened: the mobile app crashes on launch. Reference 1753410483"
    start = text.index("1753")
    assert not has_phone_context(text, start, start + 10)
    abbreviated = "Tel. 06675392096"
    assert has_phone_context(abbreviated, 5, len(abbreviated))


def test_identifier_words_are_read_on_the_same_line_only() -> None:
    assert named_as_identifier("Order no. ", 10)
    assert named_as_identifier("ISBN is ", 8)
    assert named_as_identifier("bytes=", 6)
    assert not named_as_identifier("tel=", 4)
    assert not named_as_identifier("Service client\n", 15)  # a signature's last line, then the number


def test_shape_helpers() -> None:
    assert phone_shape("(01632) 960 253") and phone_shape("0171/2345678") and phone_shape("00 49 30 901820")
    assert not phone_shape("2024/118823") and not phone_shape("7907 0700 7740") and not phone_shape("48.858370")
    assert not phone_shape("0218 2717 3235") and not phone_shape("512 345 678")  # left to the numbering plan
    assert grouped_like_a_phone("030 - 901 820 0") and not grouped_like_a_phone("0-7654-6507-8")
    assert not grouped_like_a_phone("3 660 993")
    assert is_date("24-02-84") and is_date("2024-11-25") and not is_date("68-06-61") and not is_date("2024-13-01")


def test_numbering_plan_still_decides_without_shape_or_word() -> None:
    assert [f.type for f in PIIDetector(regions=["PL"]).detect("Anna, 512 345 678")] == [PIIType.PHONE]
    assert PIIDetector(regions=["GB"]).detect("Anna, 512 345 678") == []


def test_the_budget_fail_safe_still_masks_phone_words_context() -> None:
    text = "| Name | Phone |\n|---|---|\n| Anna | 8639888274581 |"
    spent = PIIDetector().detect(text, WorkBudget(base=0, per_kib=0))
    assert [f.value for f in spent] == ["8639888274581"]
