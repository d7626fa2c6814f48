"""Templates as people write them, per language: tickets, e-mails, chat lines, CRM notes and tables.

Slots in capitals are labelled values (`{PHONE}`, `{PERSON}` …); slots in lower case are PII-free
fillers (`{date}`, `{order}`, `{time}`, `{city}`). `{PHONE_NOWORD}` marks, by hand, a phone number
with no phone word anywhere near it (a CRM line, a signature without "Tel"): a bare run of digits
there (no `+`, leading `0`, separators or parentheses) is outside what the issue asks to catch and is
labelled `PHONE_BARE`, reported apart. Every language has contact templates with and
without a phone word next to the number (a CRM line, a signature, a table row), so that phone
recall is measured on both. English holds the technical templates (IPs, secrets) every locale
also gets, since logs and code are written in English whatever the writer's language.
"""

from __future__ import annotations

CONTACT: dict[str, tuple[str, ...]] = {
    "en": (
        "Hi, this is {PERSON}. Please call me back on {PHONE} about order {order}, it never arrived.",
        "Ticket #{order}: customer {PERSON} ({EMAIL}) says the router reboots every {small} minutes. "
        "Reach me at {PHONE}.",
        "From: {PERSON} <{EMAIL}>\nSubject: delivery address\n\nPlease send the parcel to {ADDRESS} instead. "
        "Mobile {PHONE} if the driver gets lost.",
        "CRM note {date}: spoke to {PERSON}, {PHONE_NOWORD}, wants a quote for {small} seats.",
        "{PERSON}\n{ADDRESS}\nTel: {PHONE}\n{EMAIL}",
        "| Name | Phone | Email |\n|---|---|---|\n| {PERSON} | {PHONE} | {EMAIL} |",
        "name,phone,city\n{PERSON},{PHONE},{city}",
        "[{time}] agent: can I get a number to reach you?\n[{time}] customer: sure, {PHONE}",
        "Best regards,\n{PERSON}\nAccount Manager\nT {PHONE} | {EMAIL}",
        "ring me on {PHONE} after {time} pls",
        "Our new office: {ADDRESS}. Switchboard {PHONE}, fax {PHONE}.",
        "{PERSON} ({PHONE_NOWORD}) asked us to move the meeting to {date}.",
        "Customer callback requested - {PHONE} - re invoice INV-{year}-{d5}",
        "Emergency contact: {PERSON}, cell {PHONE}",
        "Please update the shipping address for {PERSON} to {ADDRESS} and confirm by email to {EMAIL}.",
    ),
    "de": (
        "Hallo, hier ist {PERSON}. Bitte rufen Sie mich unter {PHONE} zurück, es geht um Bestellung {order}.",
        "Ticket {order}: Kunde {PERSON} ({EMAIL}) meldet, dass die Lieferung nicht angekommen ist. Telefon: {PHONE}",
        "Von: {PERSON} <{EMAIL}>\nBetreff: neue Anschrift\n\nBitte ab sofort an {ADDRESS} liefern. Handy {PHONE}.",
        "Notiz {date}: Gespräch mit {PERSON}, {PHONE_NOWORD}, möchte ein Angebot für {small} Lizenzen.",
        "{PERSON}\n{ADDRESS}\nTel. {PHONE}\n{EMAIL}",
        "| Name | Telefon | E-Mail |\n|---|---|---|\n| {PERSON} | {PHONE} | {EMAIL} |",
        "Mit freundlichen Grüßen\n{PERSON}\nVertrieb\nFon {PHONE} · {EMAIL}",
        "[{time}] Kunde: erreichbar bin ich unter {PHONE}",
        "Rückrufbitte: {PERSON}, Rufnummer {PHONE}, wegen Rechnung RE-{year}-{d5}.",
        "Lieferadresse geändert auf {ADDRESS}; Ansprechpartner {PERSON} ({PHONE}).",
        "Mobil: {PHONE}\nFestnetz: {PHONE}",
    ),
    "fr": (
        "Bonjour, ici {PERSON}. Merci de me rappeler au {PHONE} au sujet de la commande {order}.",
        "Ticket {order} : le client {PERSON} ({EMAIL}) signale une panne depuis le {date}. Tél. : {PHONE}",
        "De : {PERSON} <{EMAIL}>\nObjet : changement d'adresse\n\n"
        "Merci de livrer désormais au {ADDRESS}. Portable {PHONE}.",
        "Note CRM du {date} : échange avec {PERSON}, {PHONE_NOWORD}, souhaite un devis pour {small} postes.",
        "{PERSON}\n{ADDRESS}\nTéléphone : {PHONE}\n{EMAIL}",
        "| Nom | Téléphone | Courriel |\n|---|---|---|\n| {PERSON} | {PHONE} | {EMAIL} |",
        "Cordialement,\n{PERSON}\nService client\n{PHONE_NOWORD} - {EMAIL}",
        "[{time}] client : vous pouvez me joindre au {PHONE}",
        "Rappel demandé par {PERSON} ({PHONE}) concernant la facture FA-{year}-{d5}.",
        "Nouvelle adresse de livraison : {ADDRESS}, contact {PERSON} au {PHONE}.",
    ),
    "it": (
        "Buongiorno, sono {PERSON}. Potete richiamarmi al {PHONE} per l'ordine {order}?",
        "Ticket {order}: il cliente {PERSON} ({EMAIL}) segnala un guasto dal {date}. Telefono: {PHONE}",
        "Da: {PERSON} <{EMAIL}>\nOggetto: nuovo indirizzo\n\nSpedite per favore a {ADDRESS}. Cellulare {PHONE}.",
        "Nota CRM {date}: sentito {PERSON}, {PHONE_NOWORD}, vuole un preventivo per {small} utenti.",
        "{PERSON}\n{ADDRESS}\nTel. {PHONE}\n{EMAIL}",
        "| Nome | Telefono | Email |\n|---|---|---|\n| {PERSON} | {PHONE} | {EMAIL} |",
        "Cordiali saluti,\n{PERSON}\nUfficio vendite\n{PHONE_NOWORD} | {EMAIL}",
        "[{time}] cliente: mi trovate al {PHONE} fino alle {time}",
        "Richiamare {PERSON} ({PHONE}) per la fattura FT-{year}-{d5}.",
    ),
    "nl": (
        "Hoi, met {PERSON}. Kunt u mij terugbellen op {PHONE} over bestelling {order}?",
        "Ticket {order}: klant {PERSON} ({EMAIL}) meldt een storing sinds {date}. Telefoon: {PHONE}",
        "Van: {PERSON} <{EMAIL}>\nOnderwerp: nieuw adres\n\nGraag leveren op {ADDRESS}. Mobiel {PHONE}.",
        "CRM-notitie {date}: gesproken met {PERSON}, {PHONE_NOWORD}, wil een offerte voor {small} licenties.",
        "{PERSON}\n{ADDRESS}\nTel: {PHONE}\n{EMAIL}",
        "| Naam | Telefoon | E-mail |\n|---|---|---|\n| {PERSON} | {PHONE} | {EMAIL} |",
        "Met vriendelijke groet,\n{PERSON}\nKlantenservice\n{PHONE_NOWORD} | {EMAIL}",
        "[{time}] klant: bel me maar op {PHONE}",
        "Terugbelverzoek {PERSON} ({PHONE}) over factuur F{year}-{d5}.",
    ),
    "es": (
        "Hola, soy {PERSON}. ¿Me pueden llamar al {PHONE} por el pedido {order}?",
        "Ticket {order}: el cliente {PERSON} ({EMAIL}) informa de una avería desde el {date}. Teléfono: {PHONE}",
        "De: {PERSON} <{EMAIL}>\nAsunto: nueva dirección\n\nPor favor, envíen el paquete a {ADDRESS}. Móvil {PHONE}.",
        "Nota CRM {date}: hablé con {PERSON}, {PHONE_NOWORD}, quiere presupuesto para {small} puestos.",
        "{PERSON}\n{ADDRESS}\nTel. {PHONE}\n{EMAIL}",
        "| Nombre | Teléfono | Correo |\n|---|---|---|\n| {PERSON} | {PHONE} | {EMAIL} |",
        "Un saludo,\n{PERSON}\nAtención al cliente\n{PHONE_NOWORD} · {EMAIL}",
        "[{time}] cliente: me podéis localizar en el {PHONE}",
        "Devolver llamada a {PERSON} ({PHONE}) por la factura FAC-{year}-{d5}.",
    ),
    "pl": (
        "Dzień dobry, tu {PERSON}. Proszę o kontakt pod numerem {PHONE} w sprawie zamówienia {order}.",
        "Zgłoszenie {order}: klient {PERSON} ({EMAIL}) zgłasza awarię od {date}. Telefon: {PHONE}",
        "Od: {PERSON} <{EMAIL}>\nTemat: nowy adres\n\nProszę wysłać paczkę na adres {ADDRESS}. Komórka {PHONE}.",
        "Notatka CRM {date}: rozmowa z {PERSON}, {PHONE_NOWORD}, chce ofertę na {small} stanowisk.",
        "{PERSON}\n{ADDRESS}\ntel. {PHONE}\n{EMAIL}",
        "| Imię i nazwisko | Telefon | E-mail |\n|---|---|---|\n| {PERSON} | {PHONE} | {EMAIL} |",
        "Pozdrawiam,\n{PERSON}\nDział obsługi klienta\n{PHONE_NOWORD} | {EMAIL}",
        "[{time}] klient: proszę dzwonić na {PHONE}",
        "Oddzwonić do {PERSON} ({PHONE}) w sprawie faktury FV/{year}/{d5}.",
    ),
    "sv": (
        "Hej, det är {PERSON}. Ring mig på {PHONE} angående order {order}.",
        "Ärende {order}: kunden {PERSON} ({EMAIL}) rapporterar fel sedan {date}. Telefon: {PHONE}",
        "Från: {PERSON} <{EMAIL}>\nÄmne: ny adress\n\nSkicka paketet till {ADDRESS}. Mobil {PHONE}.",
        "CRM-anteckning {date}: pratade med {PERSON}, {PHONE_NOWORD}, vill ha offert på {small} licenser.",
        "{PERSON}\n{ADDRESS}\nTel: {PHONE}\n{EMAIL}",
        "| Namn | Telefon | E-post |\n|---|---|---|\n| {PERSON} | {PHONE} | {EMAIL} |",
        "Med vänliga hälsningar\n{PERSON}\nKundtjänst\n{PHONE_NOWORD} | {EMAIL}",
        "[{time}] kund: nå mig på {PHONE}",
        "Återkoppla till {PERSON} ({PHONE_NOWORD}) om faktura {d5}-{year}.",
    ),
    "pt": (
        "Olá, sou {PERSON}. Podem ligar-me para o {PHONE} sobre a encomenda {order}?",
        "Pedido {order}: o cliente {PERSON} ({EMAIL}) reporta uma avaria desde {date}. Telefone: {PHONE}",
        "De: {PERSON} <{EMAIL}>\nAssunto: nova morada\n\nPor favor enviem para {ADDRESS}. Telemóvel {PHONE}.",
        "Nota CRM {date}: falei com {PERSON}, {PHONE_NOWORD}, quer orçamento para {small} postos.",
        "{PERSON}\n{ADDRESS}\nTel. {PHONE}\n{EMAIL}",
        "| Nome | Telefone | Email |\n|---|---|---|\n| {PERSON} | {PHONE} | {EMAIL} |",
        "Com os melhores cumprimentos,\n{PERSON}\nApoio ao cliente\n{PHONE_NOWORD} | {EMAIL}",
        "[{time}] cliente: podem contactar-me pelo {PHONE}",
        "Devolver chamada a {PERSON} ({PHONE}) sobre a fatura FT {year}/{d5}.",
    ),
}

PAYMENT: dict[str, tuple[str, ...]] = {
    "en": (
        "Please charge the card {CARD} for the renewal of contract {order}.",
        "My Visa is {CARD}, expiry 12/27, billing address {ADDRESS}.",
        "Wire the refund to {IBAN} (reference INV-{year}-{d5}).",
        "IBAN: {IBAN}\nAccount holder: {PERSON}",
        "Payment failed for card {CARD} on {date}; customer {PERSON}, {EMAIL}.",
    ),
    "de": (
        "Bitte überweisen Sie den Betrag auf {IBAN}, Kontoinhaber {PERSON}.",
        "Meine Kreditkarte: {CARD}, gültig bis 09/28.",
    ),
    "fr": ("Merci de rembourser sur le compte {IBAN} au nom de {PERSON}.", "Ma carte bancaire est la {CARD}."),
    "it": ("Effettuare il bonifico su {IBAN}, intestato a {PERSON}.", "La mia carta di credito è {CARD}."),
    "nl": ("Graag terugstorten op {IBAN} t.n.v. {PERSON}.", "Mijn creditcard: {CARD}"),
    "es": ("Hagan la transferencia a {IBAN}, titular {PERSON}.", "Mi tarjeta es la {CARD}, caduca en 11/27."),
    "pl": ("Proszę o zwrot na konto {IBAN}, właściciel {PERSON}.", "Moja karta: {CARD}"),
    "sv": ("Betala tillbaka till {IBAN}, kontoinnehavare {PERSON}.", "Mitt kort: {CARD}"),
    "pt": ("Façam a transferência para {IBAN}, titular {PERSON}.", "O meu cartão é o {CARD}."),
}

SSN: tuple[str, ...] = (
    "My SSN is {SSN}, date of birth {date}.",
    "Social security number: {SSN}\nName: {PERSON}",
    "Fill in the W-2 for {PERSON} with SSN {SSN} and mail it to {ADDRESS}.",
    "| employee | ssn | start |\n|---|---|---|\n| {PERSON} | {SSN} | {date} |",
)

TECHNICAL: tuple[str, ...] = (
    "The server at {IPV4} refuses connections on port 443 since {time}.",
    "ssh deploy@{IPV4} -p 2222 fails with a timeout",
    "{iso} WARN gateway upstream {IPV4}:8080 answered 502 in {d3} ms",
    "Please whitelist {IPV4} and {IPV6} for the VPN.",
    "ping6 {IPV6} loses 30% of packets",
    "curl -H 'Authorization: Bearer {SECRET}' https://api.example.com/v1/me",
    "My key {SECRET} stopped working this morning, why?",
    "export OPENAI_API_KEY={SECRET}",
    'config.yaml:\n  db_password: "{SECRET}"\n  host: db.internal',
    "The user {EMAIL} logged in from {IPV4} at {time}.",
)
