"""Word lists of the rule-based entity detector, per language (en, de, fr, it, nl, es, pl, sv, pt).

Written by hand from common usage, not taken from the evaluation's generator (Faker): the cue words
say where a name or an address stands (a title, a greeting, a sign-off, a form label, a street
word), the first names are the few hundred most common given names of these countries, which only
decide whether two capitalised words in running text ("… ask Jan Kowalski whether …") are a name.
"""

from __future__ import annotations

# fmt: off


def _wordlist(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Titles and honorifics: the capitalised words right after one are a name ("Dr. Weber", "pani Nowak").
TITLES = (
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "herr", "frau", "hr", "fr", "m", "mme",
    "mlle", "monsieur", "madame", "mademoiselle", "sig", "sig.ra", "sigra", "signor", "signora", "signorina",
    "dott", "dott.ssa", "dottor", "dottore", "dottoressa", "avv", "ing", "sr", "sra", "srta", "señor", "señora",
    "señorita", "don", "doña", "dña", "pan", "pani", "panie", "panu", "dhr", "mevr", "mw", "meneer", "mevrouw", "heer",
    "fru", "fröken", "herr", "snr", "dra", "exmo", "exma", "eng", "engº", "dipl.-ing", "dipl.-kfm", "univ.prof",
    "mag", "ing.", "lic", "mgr", "inż", "dr.-ing",
)

# What follows a name as part of it: degrees and generational suffixes ("Susan Liebelt B.A.", "Nicholas Mays II").
NAME_SUFFIXES = (
    "mba", "b.sc", "b.a", "b.eng", "m.sc", "m.a", "m.eng", "ll.m", "ph.d", "phd", "md", "dds", "dvm", "jr", "sr",
    "ii", "iii", "iv", "esq", "msc", "bsc",
)

# A greeting opens a message and names its reader: "Hi Anna,", "Sehr geehrte Frau Weber".
GREETINGS = (
    "hi", "hello", "hey", "dear", "good morning", "good afternoon", "good evening", "hallo", "liebe", "lieber",
    "sehr geehrte", "sehr geehrter", "guten tag", "moin", "servus", "bonjour", "bonsoir", "salut", "cher", "chère",
    "ciao", "salve", "gentile", "gentilissima", "gentilissimo", "caro", "cara", "buongiorno", "buonasera", "hola",
    "estimado", "estimada", "querido", "querida", "buenos días", "buenas tardes", "beste", "hoi", "geachte",
    "goedemorgen", "goedemiddag", "dag", "witam", "szanowny", "szanowna", "szanowni", "cześć", "dzień dobry",
    "hej", "hejsan", "god morgon", "olá", "ola", "prezado", "prezada", "bom dia", "boa tarde", "caríssimo",
)

# A sign-off closes a message and the sender's name follows it, on the same line after a comma or
# on the next line.
SIGN_OFFS = (
    "best regards", "kind regards", "warm regards", "warmest regards", "regards", "best wishes", "best", "cheers",
    "thanks", "thank you", "many thanks", "thanks again", "sincerely", "yours sincerely", "yours faithfully",
    "yours truly", "yours", "talk soon", "mit freundlichen grüßen", "mit freundlichen grüssen",
    "freundliche grüße", "freundliche grüsse", "viele grüße", "viele grüsse", "beste grüße", "liebe grüße",
    "herzliche grüße", "schöne grüße", "gruß", "grüße", "lg", "vg", "mfg", "danke", "cordialement",
    "bien cordialement", "bien à vous", "amicalement", "salutations", "sincères salutations", "merci",
    "bonne journée", "cordiali saluti", "distinti saluti", "saluti", "un saluto", "un caro saluto", "grazie",
    "a presto", "saludos", "un saludo", "saludos cordiales", "atentamente", "gracias", "un abrazo",
    "met vriendelijke groet", "met vriendelijke groeten", "vriendelijke groet", "vriendelijke groeten",
    "hartelijke groet", "groeten", "groet", "mvg", "pozdrawiam", "z poważaniem", "serdecznie pozdrawiam",
    "pozdrowienia", "dziękuję", "med vänliga hälsningar", "vänliga hälsningar", "hälsningar", "mvh", "tack",
    "cumprimentos", "com os melhores cumprimentos", "melhores cumprimentos", "atenciosamente", "abraço",
    "abraços", "obrigado", "obrigada",
)

# Form labels whose value is a person: "Name: …", "Nom : …", "Kontakt: …", "From: …".
FIELD_LABELS = (
    "name", "full name", "first name", "last name", "surname", "customer", "customer name", "contact",
    "contact person", "contact name", "client", "patient", "employee", "recipient", "sender", "from", "to", "cc",
    "attn", "attention", "signed", "requester", "reporter", "assignee", "owner", "account holder", "nom",
    "prénom", "nom complet", "expéditeur", "destinataire", "de", "à", "nombre", "nombre completo", "apellido",
    "apellidos", "remitente", "destinatario", "nome", "cognome", "nome completo", "mittente", "naam",
    "voornaam", "achternaam", "volledige naam", "klant", "contactpersoon", "van", "aan", "imię",
    "imię i nazwisko", "nazwisko", "klient", "nadawca", "odbiorca", "od", "namn", "förnamn", "efternamn",
    "kund", "kontaktperson", "från", "till", "kunde", "ansprechpartner", "kontakt", "empfänger", "absender",
    "von", "an", "vorname", "nachname", "cliente", "utente", "titular", "remetente",
)

# Phrases after which a name follows: "my name is …", "je m'appelle …".
INTRODUCTIONS = (
    "my name is", "my name's", "name is", "this is", "i am", "i'm", "signed by", "assigned to", "spoke to",
    "spoke with", "talked to", "on behalf of", "mein name ist", "ich heiße", "ich heisse", "ich bin",
    "hier ist", "je m'appelle", "je suis", "mon nom est", "de la part de", "mi chiamo", "il mio nome è",
    "sono", "me llamo", "mi nombre es", "soy", "ik heet", "mijn naam is", "ik ben", "met", "nazywam się",
    "mam na imię", "jestem", "jag heter", "mitt namn är", "jag är", "chamo-me", "o meu nome é", "meu nome é",
    "sou", "em nome de", "call back", "devolver llamada a", "llamar a", "rückruf an", "richiamare",
    "rappeler", "terugbellen", "oddzwonić do", "ring upp", "ligar para",
)

# A role written right before a full name, without a colon: "el cliente Leandro Batlle Prado", "Kunde
# Marleen Drub", "titular Araujo, Etelvina". The name must have two words or more.
ROLES = (
    "customer", "client", "account holder", "patient", "caller", "kunde", "kundin", "kontoinhaber",
    "kontoinhaberin", "ansprechpartner", "ansprechpartnerin", "le client", "la cliente", "titulaire",
    "el cliente", "la clienta", "titular", "il cliente", "la cliente", "intestatario", "intestataria", "klant",
    "rekeninghouder", "klient", "klientka", "posiadacz", "posiadaczka", "kunden", "kontoinnehavare", "o cliente",
    "a cliente",
)

# Capitalised words that follow the cues above without being a name ("Hi team", "Dear customer",
# "Name: TBD", "I'm Happy …"), and sentence words the running-text rule must not take for names.
NOT_NAMES = _wordlist(
    """
    all everyone everybody team there folks guys support sir madam customer customers client clients colleague
    colleagues friends friend user users admin administrator manager managers staff board sales hr it ops dev
    devops engineering marketing finance legal service services help helpdesk desk partner partners members
    member community world you yourself me n/a na none tbd tba unknown test demo sample example anonymous
    please thanks thank sorry yes no ok okay good great happy glad sure just also again now here the a an and
    or but if this that these those my your our their his her its we they it i he she what when where why how
    which who today tomorrow yesterday monday tuesday wednesday thursday friday saturday sunday january february
    march april may june july august september october november december morning afternoon evening night
    kunde kunden team herr frau damen herren liebe leute zusammen alle kollegen kolleginnen mitarbeiter
    madame monsieur mesdames messieurs tous toutes équipe client clients collègues cher chère
    tutti team cliente clienti colleghi signori signore
    todos todas equipo cliente clientes señor señora señores compañeros
    allemaal iedereen team klant klanten collega's heer mevrouw
    wszyscy państwo zespół klient klienci panie pani
    alla allihopa teamet kund kunder kollegor
    todos equipa cliente clientes senhor senhora colegas
    order orders invoice ticket account report project product version release update issue meeting call
    regards best kind warm wishes sincerely cheers
    """
)

# Words of product and company names the model takes for persons ("Apple Pay", "Acme Billing").
BUSINESS_WORDS = _wordlist(
    """
    cloud pay billing checkout drive teams express support team office services service inc ltd llc gmbh ag sa
    bv ab group bank labs lab systems software solutions studio studios app apps store shop online digital
    download upload settings invoices dashboard portal api sdk pro plus premium enterprise edition suite
    """
)

# Particles inside a name: "Sjoerd van der Leek", "Ludwig van Beethoven", "Teresa de la Cruz".
PARTICLES = ("van", "von", "der", "den", "de", "del", "della", "dei", "di", "da", "das", "dos", "du", "la", "le",
             "ten", "ter", "zu", "y", "i", "e", "af", "al", "bin", "ibn", "mc", "st.")

# Given names common in the nine languages' countries, lower-cased. They decide whether two
# capitalised words in running text are a name ("ask Anna Kowalska"); alone they never are.
FIRST_NAMES = _wordlist(
    """
    james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony
    mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan
    jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin samuel gregory alexander
    frank patrick raymond jack dennis jerry tyler aaron jose adam nathan henry douglas zachary peter kyle
    noah ethan jeremy walter christian keith roger terry austin sean gerald carl harold dylan arthur lawrence
    jordan jesse bryan billy bruce gabriel joe logan alan juan albert willie elijah wayne randy vincent
    mason roy ralph bobby russell bradley philip eugene oliver harry charlie jamie liam luke callum connor
    mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty sandra margaret
    ashley kimberly emily donna michelle carol amanda melissa deborah stephanie dorothy rebecca sharon laura
    cynthia amy kathleen angela shirley brenda emma anna pamela nicole samantha katherine christine helen
    debra rachel carolyn janet maria catherine heather diane olivia julie joyce victoria ruth virginia lauren
    kelly christina joan evelyn judith andrea hannah megan cheryl jacqueline martha madison teresa gloria sara
    janice ann kathryn abigail sophia frances jean alice judy isabella julia beverly denise marie amber
    danielle theresa diana natalie brittany charlotte marilyn rose kayla alexis lori jane tracy chloe
    amelia jade lucy sophie ellie molly ruby poppy freya isla mia zoe georgia holly megan bethany leah
    hans peter wolfgang klaus jürgen dieter günter horst uwe manfred werner helmut gerhard heinz karl walter
    rolf bernd frank stefan andreas michael thomas markus christian martin jörg ralf sven jan tobias florian
    sebastian alexander maximilian lukas leon felix jonas paul elias finn niklas moritz julian tim philipp
    fabian dominik kai lars dirk olaf volker norbert ulrich reinhard rainer hartmut detlef torsten matthias
    ursula monika petra sabine renate helga karin brigitte ingrid erika gisela susanne andrea claudia birgit
    stefanie nicole katrin kerstin anja heike silke tanja julia lena lea laura hanna marie sophie emilia
    lina mia clara johanna luisa katharina franziska angelika christa elke gabriele margarete hildegard
    jean pierre michel philippe alain nicolas christophe patrick daniel françois laurent frédéric éric
    stéphane david olivier sébastien thierry julien pascal jacques bernard dominique christian vincent
    thomas antoine alexandre maxime hugo louis lucas théo gabriel arthur jules raphaël léo mathis nathan
    marie nathalie isabelle sylvie catherine françoise christine monique valérie sandrine véronique sophie
    céline chantal nicole anne martine camille léa manon chloé inès emma jade louise alice juliette zoé
    élodie aurélie émilie julie claire hélène margaux clémence amandine mathilde élise noémie océane
    giuseppe giovanni antonio mario luigi francesco angelo vincenzo pietro salvatore carlo franco domenico
    bruno paolo michele giorgio aldo sergio luciano alessandro andrea lorenzo matteo marco luca davide
    simone federico riccardo stefano roberto massimo fabio gabriele leonardo tommaso edoardo cesare
    maria anna giuseppina rosa angela giovanna teresa lucia carmela caterina francesca sofia giulia aurora
    alice ginevra emma giorgia martina chiara sara elena alessia valentina federica silvia paola laura
    elisa beatrice camilla roberta daniela monica barbara antonella annetta patrizia
    jan johannes hendrik cornelis pieter gerrit willem jacobus dirk klaas bram daan sem lucas levi finn
    thijs ruben sven lars joep sjoerd bas tom niels jeroen maarten bart wouter koen stijn rik gijs teun
    maria johanna anna cornelia wilhelmina elisabeth hendrika geertruida emma julia sophie tess zoë sara
    lotte anouk fleur sanne lieke iris femke eva lisa noa yara mila saar evi roos esmee maud ilse
    antonio manuel josé francisco david juan javier daniel carlos jesús alejandro miguel rafael pablo pedro
    ángel sergio fernando jorge luis alberto álvaro adrián diego raúl enrique ramón vicente andrés joaquín
    hugo martín mateo leo armando segismundo teobaldo marcelino
    maría carmen ana isabel dolores pilar teresa rosa josefa cristina lucía marta laura elena francisca
    mercedes antonia paula raquel sara sofía julia valeria martina alba irene beatriz nuria silvia
    montserrat rocío amparo bárbara dorotea leticia inmaculada concepción
    piotr krzysztof andrzej tomasz paweł michał marcin jakub adam marek łukasz grzegorz mateusz wojciech
    mariusz dariusz zbigniew jerzy maciej rafał kamil robert sebastian szymon bartosz patryk dawid
    stanisław józef tadeusz ryszard kazimierz henryk władysław zdzisław
    anna maria katarzyna małgorzata agnieszka barbara ewa krystyna magdalena elżbieta joanna aleksandra
    monika zofia teresa danuta natalia karolina julia marta beata dorota halina jadwiga alicja justyna
    agata paulina weronika zuzanna hanna marika oliwia wiktoria maja kinga iwona grażyna jolanta
    lars anders johan karl per erik nils mikael jan hans bengt sven lennart björn peter olof gunnar
    fredrik daniel mattias magnus stefan thomas leif torsten ulf bo åke göran kjell rolf oskar william
    liam elias hugo lucas adam alexander axel filip isak ludvig viktor emil anton
    maria anna margareta elisabeth eva kristina birgitta karin elisabet marie ingrid christina linnéa
    sofia kerstin lena helena emma malin ida hanna sara johanna anette ulla gunilla astrid elsa alice
    maja ebba wilma agnes freja saga stina britt
    joão antónio josé manuel francisco carlos paulo pedro luís jorge miguel rui nuno ricardo tiago
    diogo rodrigo afonso martim tomás duarte gonçalo santiago guilherme gustavo bernardo vasco mateus
    joaquim brian
    maria ana isabel manuela fernanda teresa helena paula cristina sofia beatriz leonor matilde carolina
    inês mariana margarida joana catarina rita sara luísa francisca lara diana madalena ângela
    """
)

# Street words. `STREET_PREFIXES` come before the street's name ("rue de la Paix", "Via Roma",
# "ul. Długa"); `STREET_SUFFIXES` after it as a separate word ("Baker Street", "Smith road");
# `COMPOUND_SUFFIXES` end the street's one-word name ("Hauptstraße", "Kerkstraat", "Storgatan").
STREET_PREFIXES = (
    "rue", "avenue", "av", "av.", "ave", "boulevard", "bd", "bld", "chemin", "impasse", "allée", "place", "quai",
    "route", "cours", "square", "passage", "rond-point", "faubourg", "via", "viale", "piazza", "piazzale",
    "corso", "largo", "vicolo", "strada", "borgo", "contrada", "incrocio", "rotonda", "calle", "c/", "avenida",
    "avda", "avda.", "plaza", "paseo", "pasaje", "ronda", "camino", "carretera", "travesía", "callejón",
    "cañada", "acceso", "glorieta", "ul", "ul.", "ulica", "al", "al.", "aleja", "pl", "pl.", "plac", "os.",
    "osiedle", "canale", "stretto", "rambla", "pasadizo", "c.", "vía", "carrer", "cuesta", "urbanización",
    "rua", "r.", "travessa", "alameda", "praça", "estrada", "rotunda", "bairro", "beco", "calçada",
)
STREET_SUFFIXES = (
    "street", "st", "road", "rd", "avenue", "ave", "lane", "ln", "drive", "dr", "boulevard", "blvd", "court",
    "ct", "place", "pl", "square", "sq", "terrace", "crescent", "close", "gardens", "grove", "parkway", "pkwy",
    "highway", "hwy", "circle", "cir", "trail", "mews", "plaza", "alley", "causeway", "expressway", "freeway",
    "turnpike", "underpass", "overpass", "trafficway", "skyway", "stravenue", "throughway", "viaduct",
    "junction", "junctions", "inlet", "shores", "shore", "springs", "cape", "crossroad", "estates", "heights",
    "meadows", "orchard", "ranch", "rapids", "shoals", "summit", "tunnel", "vista", "wharf", "manor", "manors",
    "knoll", "knolls", "hollow", "harbor", "harbors", "harbour", "haven", "glen", "glens", "fords", "forges",
    "forks", "cliff", "cliffs", "coves", "cove", "creek", "crest", "dale", "flats", "gateway", "isle", "keys",
    "lodge", "loop", "mill", "mills", "motorway", "prairie", "radial", "ridge", "ridges", "spur", "spurs",
    "stream", "trace", "track", "vale", "valley", "valleys", "villages", "ville", "walk", "way", "ways", "wells",
    "path", "pike", "pines", "plains", "ports", "port", "points", "brooks", "brook", "burgs", "canyon",
    "corners", "courts", "drives", "falls", "fields", "greens", "hills", "islands", "lakes", "lights", "locks",
    "mountains", "parks", "squares", "stations", "streets", "unions", "views", "route", "row", "rise", "green",
    "mission", "branch", "bypass", "crossing", "extension", "landing", "mount", "neck", "pass", "passage",
    "park", "view", "wall", "key", "mountain", "lake", "island", "river", "forest", "field", "garden", "hill",
    "center", "centre", "station", "village", "common", "course", "club", "light", "lock", "spring", "land",
    "camp", "bridge", "ferry", "ford", "forge", "fork", "fort", "pine", "point", "union", "well", "burg",
    "estate", "haven", "meadow", "oval", "ranch", "rapid", "shoal", "run", "plain", "fall",
)
# Suffixes that are also common words ("3 Key Points", "2 Main Points"): such a street needs a
# neighbouring address part (a postcode, a city line) to count.
WEAK_STREET_SUFFIXES = _wordlist(
    """
    way walk path pass points point port ports route row rise green mission branch crossing extension landing
    mount neck views lights locks fields greens hills parks squares stations streets unions courts drives falls
    corners lakes islands mountains track trace stream spur mill mills loop crest dale cove coves ridge summit
    valley ville vista wells keys park view wall key mountain lake island river forest field garden hill center
    centre station village common course club light lock spring land camp bridge ferry ford forge fork fort
    pine union well burg estate haven meadow oval ranch rapid shoal run plain fall
    """
)
COMPOUND_SUFFIXES = (
    "straße", "strasse", "str.", "weg", "gasse", "allee", "platz", "damm", "ufer", "chaussee", "steig", "stieg",
    "pfad", "ring", "markt", "hof", "straat", "laan", "plein", "gracht", "kade", "dijk", "singel", "dreef",
    "steeg", "baan", "boulevard", "park", "gatan", "vägen", "gränd", "torget", "stigen", "backen", "gata", "väg",
    "allén", "plan",
)
# Of those, the ones English words also end with ("Spring 2024", "String 3", "Plan 2"): weak, as above.
WEAK_COMPOUND_SUFFIXES = frozenset({"ring", "markt", "hof", "park", "plan", "backen", "dijk"})

# Units inside a building: "Apt. 909", "Flat 79D", "Piso 8", "Appartamento 19", "m. 4".
UNITS = (
    "apt", "apt.", "apartment", "suite", "ste", "ste.", "unit", "flat", "studio", "floor", "fl.", "room", "#",
    "wohnung", "whg.", "etage", "og", "appartement", "appt", "bât.", "bâtiment", "étage", "appartamento",
    "interno", "int.", "piano", "scala", "piso", "puerta", "planta", "esc.", "escalera", "m.", "lok.",
    "mieszkanie", "lgh", "lägenhet", "andar", "r/c", "esq.", "dto.", "bus",
)
# fmt: on
