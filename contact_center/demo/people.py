"""The fixed cast of the demo: queues, staff, and the name and company lists customers are
drawn from. Data only; `generate` makes customers out of it."""

# ruff: noqa: RUF001  (Cyrillic letters in Ukrainian names are meant, not look-alikes)

from __future__ import annotations

from dataclasses import dataclass

DEMO_AGENT_INTERFACES: tuple[str, ...] = tuple(f"PJSIP/agent-{n}" for n in range(1001, 1007))
"""The six agent phones of the sandbox, in order; demo agent i answers on interface i."""


@dataclass(frozen=True, slots=True)
class DemoQueue:
    name: str
    display_name: str
    service_level_seconds: int = 20


@dataclass(frozen=True, slots=True)
class DemoUser:
    username: str
    display_name: str
    role: str
    language: str
    interface: str | None = None
    queues: tuple[tuple[str, int], ...] = ()
    """(queue name, penalty) pairs; lower penalty rings first."""


QUEUES: tuple[DemoQueue, ...] = (
    DemoQueue("main", "General line"),
    DemoQueue("vip", "VIP desk", 10),
    DemoQueue("collections", "Collections"),
    DemoQueue("support-pl", "Wsparcie PL"),
    DemoQueue("support-uk", "Підтримка UA"),
    DemoQueue("support-en", "Support EN"),
    DemoQueue("overflow", "Overflow"),
)

SENIOR_QUEUES = (("vip", 0), ("collections", 0))


def _agent(
    number: int, username: str, name: str, language: str, *, senior: bool = False
) -> DemoUser:
    queues: tuple[tuple[str, int], ...] = ((f"support-{language}", 0), ("main", 1))
    if senior:
        queues += SENIOR_QUEUES
    queues += (("overflow", 2),)
    return DemoUser(username, name, "agent", language, DEMO_AGENT_INTERFACES[number - 1001], queues)


USERS: tuple[DemoUser, ...] = (
    _agent(1001, "anowak", "Anna Nowak", "pl", senior=True),
    _agent(1002, "pwisniewski", "Paweł Wiśniewski", "pl"),
    _agent(1003, "okovalenko", "Олена Коваленко", "uk"),
    _agent(1004, "ashevchenko", "Andrii Shevchenko", "uk"),
    _agent(1005, "jsmith", "John Smith", "en", senior=True),
    _agent(1006, "smurphy", "Siobhán Murphy", "en"),
    DemoUser("mzielinska", "Małgorzata Zielińska", "supervisor", "pl"),
    DemoUser("tboiko", "Тарас Бойко", "supervisor", "uk"),
    DemoUser("admin", "Administrator", "admin", "en"),
)

# --- customers' names --------------------------------------------------------------------------

PL_FIRST_MALE = (
    "Adam", "Andrzej", "Bartosz", "Grzegorz", "Jakub", "Jan", "Jerzy", "Kamil", "Krzysztof",
    "Łukasz", "Maciej", "Marek", "Michał", "Paweł", "Piotr", "Przemysław", "Rafał", "Stanisław",
    "Tomasz", "Wojciech", "Zbigniew", "Mikołaj", "Sławomir", "Józef",
)  # fmt: skip
PL_FIRST_FEMALE = (
    "Agnieszka", "Aleksandra", "Anna", "Barbara", "Beata", "Dorota", "Ewa", "Grażyna",
    "Joanna", "Katarzyna", "Magdalena", "Małgorzata", "Marta", "Monika", "Natalia", "Renata",
    "Zofia", "Żaneta", "Urszula", "Jadwiga", "Bożena", "Halina", "Łucja", "Elżbieta",
)  # fmt: skip
PL_SURNAMES = (
    "Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski",
    "Zieliński", "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur",
    "Kwiatkowski", "Krawczyk", "Piotrowski", "Grabowski", "Pawłowski", "Michalski", "Król",
    "Wieczorek", "Jabłoński", "Wróbel", "Majewski", "Olszewski", "Stępień", "Malinowski",
    "Górski", "Sikora", "Walczak", "Rutkowski", "Szewczyk", "Ostrowski", "Bąk", "Zawadzki",
    "Chmielewski", "Sokołowski", "Czarnecki", "Kołodziej", "Sadowski", "Gołębiowski",
)  # fmt: skip

UK_FIRST_MALE = (
    "Олександр", "Андрій", "Дмитро", "Сергій", "Володимир", "Микола", "Іван", "Тарас",
    "Богдан", "Юрій", "Василь", "Петро", "Михайло", "Віталій", "Остап", "Євген", "Ярослав",
)  # fmt: skip
UK_FIRST_FEMALE = (
    "Олена", "Оксана", "Наталія", "Ірина", "Тетяна", "Юлія", "Марія", "Світлана", "Людмила",
    "Галина", "Катерина", "Анастасія", "Христина", "Соломія", "Ольга", "Євгенія", "Ярина",
)  # fmt: skip
UK_SURNAMES = (
    "Шевченко", "Коваленко", "Бондаренко", "Ткаченко", "Кравченко", "Олійник", "Шевчук",
    "Поліщук", "Мельник", "Бойко", "Коваль", "Лисенко", "Руденко", "Савченко", "Марченко",
    "Петренко", "Мороз", "Кравчук", "Ковальчук", "Левченко", "Павленко", "Іваненко",
    "Литвиненко", "Клименко", "Романюк", "Дорошенко", "Ковальський", "Яковенко", "Гнатюк",
    "Зінченко", "Пилипенко", "Возняк",
)  # fmt: skip

EN_FIRST_MALE = (
    "James", "Oliver", "George", "Harry", "William", "Thomas", "Daniel", "Michael", "David",
    "Robert", "Christopher", "Matthew", "Liam", "Seán", "Conor", "Ethan", "Noah", "Samuel",
)  # fmt: skip
EN_FIRST_FEMALE = (
    "Olivia", "Amelia", "Isla", "Emily", "Sophie", "Charlotte", "Grace", "Jessica", "Emma",
    "Sarah", "Hannah", "Aoife", "Siobhán", "Niamh", "Chloé", "Zoë", "Megan", "Laura",
)  # fmt: skip
EN_SURNAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Evans",
    "Thomas", "Roberts", "Walker", "Wright", "Thompson", "White", "Hughes", "Edwards", "Green",
    "Murphy", "Kelly", "O'Brien", "Byrne", "Ryan", "O'Sullivan", "Walsh", "McCarthy", "Miller",
    "Anderson", "Clarke", "Patel", "Harris", "Lewis",
)  # fmt: skip

# --- companies ----------------------------------------------------------------------------------

COMPANIES: dict[str, tuple[str, ...]] = {
    "pl": (
        "Kowalski i Synowie Sp. z o.o.",
        "Przedsiębiorstwo Handlowe Łączpol Sp. z o.o.",
        "Zakłady Mięsne Żurawiec S.A.",
        "Biuro Rachunkowe Małgorzata Wójcik",
        "Hurtownia Budowlana Dąbek s.c.",
        "Piekarnia Świętokrzyska Sp. j.",
        "Gród Logistyka Sp. z o.o.",
        "Ogrodnictwo Różany Zakątek",
        "Elektro-Mont Kraków Sp. z o.o.",
        "Apteka Pod Złotym Lwem",
        "Spółdzielnia Mleczarska Łąkowa",
        "Transbud Śląsk Sp. z o.o.",
    ),
    "uk": (
        'ТОВ "Агросвіт"',
        'ПП "Будмайстер"',
        'ТОВ "Дніпро-Логістик"',
        "ФОП Коваленко О. В.",
        'ТОВ "Карпатська Вода"',
        'ПрАТ "Поділля Зерно"',
        'ТОВ "Світанок-Агро"',
        'ТОВ "Укрмедпостач"',
        "Lvivska Keramika LLC",
        "Agrosvit Trade LLC",
    ),
    "en": (
        "Northwind Ltd",
        "Contoso Ltd",
        "Fabrikam Inc.",
        "Tailspin Toys Ltd",
        "Wingtip Supplies Ltd",
        "Harbour & Finch Ltd",
        "O'Connell Bros. Ltd",
        "Greenfield Farms LLC",
        "Litware Inc.",
        "Alpine Ski House",
        "Coho Winery",
    ),
}

TAGS = (
    "retail",
    "newsletter",
    "complaint-2025",
    "priority-support",
    "invoice-by-email",
    "callback-preferred",
    "no-marketing",
)

CUSTOMER_NOTES: dict[str, tuple[str, ...]] = {
    "pl": (
        "Preferuje kontakt po 16:00.",
        "Prosi o faktury na adres firmowy.",
        "Reklamacja z marca rozpatrzona pozytywnie.",
        "Zainteresowany rozszerzeniem umowy.",
        "Nie dzwonić w weekendy.",
    ),
    "uk": (
        "Просить дзвонити після обіду.",
        "Рахунки надсилати на електронну пошту.",
        "Скарга від березня закрита.",
        "Цікавиться новим тарифом.",
        "Спілкується лише українською.",
    ),
    "en": (
        "Prefers email follow-up.",
        "Asked for invoices to the head office.",
        "Complaint from March resolved, goodwill credit given.",
        "Interested in upgrading the contract.",
        "Hard of hearing: speak slowly and clearly.",
    ),
}

CALL_NOTES: dict[str, tuple[str, ...]] = {
    "pl": (
        "Klient pytał o termin dostawy.",
        "Wyjaśniono fakturę, klient zadowolony.",
        "Oddzwonić jutro przed południem.",
        "Zgłoszenie przekazane do działu technicznego.",
    ),
    "uk": (
        "Клієнт питав про термін доставки.",
        "Пояснили рахунок, клієнт задоволений.",
        "Передзвонити завтра до обіду.",
        "Заявку передано до технічного відділу.",
    ),
    "en": (
        "Customer asked about the delivery date.",
        "Explained the invoice, customer happy.",
        "Call back tomorrow morning.",
        "Ticket passed to the technical team.",
    ),
}

_UK_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
    "и": "y", "і": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ь": "", "'": "", "’": "",
    "є": "ie", "ї": "i", "й": "i", "ю": "iu", "я": "ia",
}  # fmt: skip
_UK_TRANSLIT_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}


def transliterate_uk(text: str) -> str:
    """Ukrainian to Latin by the 2010 national system (Олена Коваленко -> Olena Kovalenko)."""
    out: list[str] = []
    previous = " "
    for char in text:
        lower = char.lower()
        if lower not in _UK_TRANSLIT:
            out.append(char)
        else:
            initial = not previous.isalpha()
            latin = (_UK_TRANSLIT_INITIAL if initial else _UK_TRANSLIT).get(
                lower, _UK_TRANSLIT[lower]
            )
            if lower == "г" and previous.lower() == "з":
                latin = "gh"
            out.append(latin.capitalize() if char != lower and initial else latin)
        previous = char
    return "".join(out)


def feminine_surname(surname: str, language: str) -> str:
    """Polish -ski/-cki/-dzki and Ukrainian -ський/-цький take a feminine ending."""
    if language == "pl" and surname.endswith(("ski", "cki", "dzki")):
        return surname[:-1] + "a"
    if language == "uk" and surname.endswith("ький"):
        return surname[:-2] + "а"
    return surname
