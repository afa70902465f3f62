"""Common Moroccan first and family names, in Arabic script with their usual Latin spellings.

Each entry is (Arabic, usual Latin spelling, other Latin spellings met in civil-status and ID
records). The first spelling is what the generator writes; the variants feed the duplicate
injector (Mohammed / Mohamed / Mhamed). Weights are rough popularity ranks, not statistics:
the first names of each list are the most common.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NameEntry = tuple[str, str, tuple[str, ...]]

MALE: tuple[NameEntry, ...] = (
    ("محمد", "Mohammed", ("Mohamed", "Mohamad", "Mhamed", "Mouhamed", "Muhammad")),
    ("أحمد", "Ahmed", ("Ahmad", "Hmad")),
    ("يوسف", "Youssef", ("Youssouf", "Yousef", "Youcef")),
    ("عبد الله", "Abdellah", ("Abdallah", "Abdullah", "Abdelah")),
    ("عمر", "Omar", ("Omer", "Oumar")),
    ("حسن", "Hassan", ("Hasan", "Hassane")),
    ("إبراهيم", "Brahim", ("Ibrahim", "Ibrahime")),
    ("مصطفى", "Mustapha", ("Mostafa", "Moustapha", "Mustafa")),
    ("رشيد", "Rachid", ("Rashid", "Rachide")),
    ("خالد", "Khalid", ("Khaled",)),
    ("سعيد", "Said", ("Saïd", "Saaid")),
    ("علي", "Ali", ("Aly",)),
    ("عبد الرحيم", "Abderrahim", ("Abderahim", "Abdurrahim")),
    ("عبد الرحمان", "Abderrahmane", ("Abderrahman", "Abderahmane", "Abdurrahman")),
    ("عبد العزيز", "Abdelaziz", ("Abdulaziz", "Abdel Aziz")),
    ("عبد الكريم", "Abdelkrim", ("Abdelkarim", "Abdulkarim")),
    ("عبد اللطيف", "Abdellatif", ("Abdelatif", "Abdullatif")),
    ("عبد الحق", "Abdelhak", ("Abdelhaq",)),
    ("عبد الإله", "Abdelilah", ("Abdelillah", "Abdellilah")),
    ("عبد القادر", "Abdelkader", ("Abdelkadir", "Abdulqadir")),
    ("حسين", "Houssine", ("Hussein", "Houcine", "Hossein")),
    ("هشام", "Hicham", ("Hisham", "Hichame")),
    ("نور الدين", "Noureddine", ("Nourdine", "Nour Eddine", "Nouredine")),
    ("جمال", "Jamal", ("Djamal", "Jamale")),
    ("كريم", "Karim", ("Kareem",)),
    ("محسن", "Mohcine", ("Mohsine", "Mohsin")),
    ("ياسين", "Yassine", ("Yacine", "Yasin")),
    ("أيوب", "Ayoub", ("Ayub", "Aiyoub")),
    ("إسماعيل", "Ismail", ("Smail", "Ismael")),
    ("عثمان", "Othmane", ("Otmane", "Outhmane", "Osman")),
    ("حمزة", "Hamza", ("Hamzah",)),
    ("زكرياء", "Zakaria", ("Zakariya", "Zakariae")),
    ("بلال", "Bilal", ("Belal",)),
    ("أنس", "Anas", ("Anass",)),
    ("المهدي", "Mehdi", ("El Mehdi", "Mahdi")),
    ("إدريس", "Driss", ("Idriss", "Idris")),
    ("عادل", "Adil", ("Adel",)),
    ("سفيان", "Soufiane", ("Sofiane", "Sufyan")),
    ("طارق", "Tarik", ("Tariq", "Tarek")),
    ("نبيل", "Nabil", ("Nabile",)),
    ("عزيز", "Aziz", ("Azziz",)),
    ("الحسن", "Lahcen", ("Lahsen", "El Hassan")),
    ("الحسين", "Lhoussaine", ("Lhoucine", "El Houssine")),
    ("العربي", "Larbi", ("Elarbi", "El Arbi")),
    ("الطيب", "Tayeb", ("Taib", "Ettayeb")),
    ("الهاشمي", "Hachmi", ("Hachemi", "El Hachmi")),
    ("بوشعيب", "Bouchaib", ("Bouchaïb", "Bouchaab")),
    ("الميلودي", "Miloudi", ("El Miloudi", "Miloud")),
    ("امبارك", "Mbarek", ("Mbark", "Embarek", "Moubarak")),
    ("المختار", "Mokhtar", ("El Mokhtar", "Mukhtar")),
    ("صلاح الدين", "Salaheddine", ("Salah Eddine", "Salahdine")),
    ("آدم", "Adam", ("Adem",)),
    ("ريان", "Rayane", ("Rayan", "Ryan")),
    ("إلياس", "Ilyas", ("Elias", "Ilias")),
    ("سليمان", "Slimane", ("Soulaimane", "Souleimane", "Sulayman")),
    ("منير", "Mounir", ("Munir",)),
    ("عماد", "Imad", ("Imade", "Emad")),
    ("فؤاد", "Fouad", ("Fuad",)),
    ("توفيق", "Taoufik", ("Toufik", "Tawfiq")),
    ("رضوان", "Redouane", ("Ridouane", "Redwan", "Radwane")),
    ("وليد", "Walid", ("Oualid",)),
    ("عبد السلام", "Abdeslam", ("Abdessalam", "Abdesalam")),
    ("عبد المجيد", "Abdelmajid", ("Abdelmajide", "Abdelmadjid")),
)

FEMALE: tuple[NameEntry, ...] = (
    ("فاطمة", "Fatima", ("Fatma", "Fatéma", "Fatimah")),
    ("خديجة", "Khadija", ("Khadidja", "Khadijah")),
    ("فاطمة الزهراء", "Fatima Zahra", ("Fatimazahra", "Fatima-Zahra", "Fatim Zahra")),
    ("عائشة", "Aicha", ("Aïcha", "Aisha", "Aycha")),
    ("مريم", "Meryem", ("Maryam", "Mariam", "Meriem")),
    ("زينب", "Zineb", ("Zaynab", "Zeineb", "Zainab")),
    ("نعيمة", "Naima", ("Naïma", "Naeema")),
    ("حليمة", "Halima", ("Halimah",)),
    ("الزهرة", "Zahra", ("Zohra", "Ezzahra")),
    ("مليكة", "Malika", ("Malikah",)),
    ("رشيدة", "Rachida", ("Rashida",)),
    ("سعاد", "Souad", ("Suad",)),
    ("حنان", "Hanane", ("Hanan",)),
    ("نادية", "Nadia", ("Nadiya",)),
    ("لطيفة", "Latifa", ("Lateefa",)),
    ("سميرة", "Samira", ("Samirah",)),
    ("كريمة", "Karima", ("Karimah",)),
    ("حياة", "Hayat", ("Hayate",)),
    ("نجاة", "Najat", ("Najate",)),
    ("سناء", "Sanaa", ("Sana",)),
    ("إيمان", "Imane", ("Iman", "Imen")),
    ("أسماء", "Asmae", ("Asmaa", "Asma")),
    ("هدى", "Houda", ("Huda", "Hoda")),
    ("سلمى", "Salma", ("Selma",)),
    ("ياسمين", "Yasmine", ("Yasmina", "Yassmine")),
    ("هاجر", "Hajar", ("Hajer",)),
    ("سكينة", "Soukaina", ("Sakina", "Soukayna")),
    ("وفاء", "Wafae", ("Wafaa", "Wafa")),
    ("بشرى", "Bouchra", ("Bushra",)),
    ("غيثة", "Ghita", ("Ghitha",)),
    ("لبنى", "Loubna", ("Lubna",)),
    ("ابتسام", "Ibtissam", ("Ibtisam", "Btissam")),
    ("نوال", "Nawal", ("Naoual",)),
    ("حسناء", "Hasna", ("Hasnaa", "Hassna")),
    ("سهام", "Siham", ("Sihame",)),
    ("فتيحة", "Fatiha", ("Fatyha", "Fatihah")),
    ("يامنة", "Yamna", ("Yamina",)),
    ("رقية", "Rkia", ("Rokia", "Ruqaya", "Rquia")),
    ("البتول", "Batoul", ("El Batoul", "Elbatoul")),
    ("مباركة", "Mbarka", ("Moubaraka",)),
    ("شيماء", "Chaimae", ("Chaima", "Shaima", "Chaymae")),
    ("جميلة", "Jamila", ("Djamila",)),
    ("رجاء", "Rajae", ("Raja", "Rajaa")),
    ("صفاء", "Safae", ("Safaa", "Safa")),
    ("نزهة", "Nezha", ("Nazha",)),
    ("عزيزة", "Aziza", ("Azziza",)),
    ("دنيا", "Dounia", ("Donia", "Dunya")),
    ("إكرام", "Ikram", ("Ikrame",)),
    ("كوثر", "Kaoutar", ("Kawtar", "Kaouthar")),
    ("آية", "Aya", ("Aaya",)),
    ("نور", "Nour", ("Nur",)),
    ("لمياء", "Lamiae", ("Lamia", "Lamyaa")),
    ("منى", "Mouna", ("Mona", "Muna")),
    ("سلوى", "Salwa", ("Saloua",)),
    ("ثريا", "Touria", ("Thouria", "Thuraya")),
    ("هند", "Hind", ("Hinde",)),
    ("السعدية", "Saadia", ("Saâdia", "Essaadia")),
    ("ميلودة", "Milouda", ("Miloda",)),
)

FAMILY: tuple[NameEntry, ...] = (
    ("العلوي", "Alaoui", ("El Alaoui", "Elalaoui", "Al Alaoui")),
    ("الإدريسي", "El Idrissi", ("Idrissi", "Al Idrissi", "Elidrissi")),
    ("بناني", "Bennani", ("Benani",)),
    ("التازي", "Tazi", ("Ettazi", "El Tazi")),
    ("الفاسي", "El Fassi", ("Fassi", "Al Fassi")),
    ("برادة", "Berrada", ("Berada",)),
    ("بنجلون", "Benjelloun", ("Benjeloun", "Ben Jelloun")),
    ("الشرقاوي", "Cherkaoui", ("Charkaoui", "Echcherkaoui", "Cherqaoui")),
    ("المنصوري", "El Mansouri", ("Mansouri", "Al Mansouri")),
    ("الحسني", "El Hassani", ("Hassani", "Al Hassani")),
    ("الزياني", "Ziani", ("Zayani", "Zaiani")),
    ("العمراني", "El Amrani", ("Amrani", "Al Amrani")),
    ("الوزاني", "Ouazzani", ("Ouazani", "El Ouazzani", "Wazzani")),
    ("الكتاني", "Kettani", ("El Kettani", "Kattani")),
    ("الطاهري", "Tahiri", ("Taheri", "El Tahiri")),
    ("البقالي", "El Bakkali", ("Bakkali", "Baqali")),
    ("الريسوني", "Raissouni", ("Rissouni", "Raisouni")),
    ("الهواري", "El Houari", ("Houari", "Hawari")),
    ("بوزيد", "Bouzid", ("Bouzide",)),
    ("بوعزة", "Bouazza", ("Bouaza",)),
    ("الزروالي", "Zerouali", ("Zeroali", "Ezzerouali")),
    ("الحداد", "Haddad", ("El Haddad",)),
    ("النجار", "Najjar", ("Ennajjar", "Najar")),
    ("الخياط", "Khayat", ("El Khayat", "Khayyat")),
    ("الصباغ", "Sebbagh", ("Sabbagh", "Essabbagh")),
    ("الدكالي", "Doukkali", ("Dokkali", "Doukali")),
    ("الرحماني", "Rahmani", ("Errahmani", "Er-Rahmani")),
    ("العبدلاوي", "Abdellaoui", ("Abdelaoui", "El Abdellaoui")),
    ("الحاجي", "Hajji", ("El Hajji", "Haji")),
    ("بنموسى", "Benmoussa", ("Ben Moussa",)),
    ("بنكيران", "Benkirane", ("Ben Kirane",)),
    ("العثماني", "El Othmani", ("Othmani", "Outmani")),
    ("أمزيان", "Amezian", ("Amzian", "Amziane")),
    ("آيت علي", "Ait Ali", ("Aït Ali", "Ait-Ali")),
    ("آيت أحمد", "Ait Ahmed", ("Aït Ahmed", "Ait-Ahmed")),
    ("أوعلي", "Ouali", ("Ou Ali", "Oualy")),
    ("أمغار", "Amghar", ("Amrhar",)),
    ("أزناك", "Aznag", ("Aznague",)),
    ("بوطالب", "Boutaleb", ("Bou Taleb",)),
    ("المرابط", "Mrabet", ("El Mrabet", "Merabet")),
    ("الشاوي", "Chaoui", ("Echchaoui", "El Chaoui")),
    ("السوسي", "Soussi", ("Essoussi", "El Soussi")),
    ("المراكشي", "Marrakchi", ("El Marrakchi",)),
    ("الريفي", "Rifi", ("Errifi", "El Rifi")),
    ("الجبلي", "Jebli", ("El Jebli", "Jbli")),
    ("البركاني", "Berkani", ("El Berkani",)),
    ("الصحراوي", "Sahraoui", ("Essahraoui", "Sahrawi")),
    ("الناصري", "Naciri", ("Nasiri", "Ennaciri", "Nassiri")),
    ("الأنصاري", "El Ansari", ("Ansari", "Alansari")),
    ("القادري", "Kadiri", ("Qadiri", "El Kadiri")),
    ("الشريف", "Cherif", ("Echcherif", "Cherife")),
    ("بنحدو", "Benhaddou", ("Ben Haddou",)),
    ("بلحاج", "Belhaj", ("Belhadj", "Bel Haj")),
    ("بلقاضي", "Belkadi", ("Belqadi",)),
    ("المودن", "Moudden", ("El Moudden",)),
    ("الخطابي", "Khattabi", ("El Khattabi", "Khatabi")),
    ("العلمي", "Alami", ("El Alami", "Al Alami")),
    ("الطالبي", "Talbi", ("Taalbi", "Ettalbi")),
    ("اليوسفي", "Youssfi", ("Yousfi", "El Youssfi")),
    ("الإسماعيلي", "Smaili", ("Ismaili", "El Ismaili")),
    ("الحمداوي", "Hamdaoui", ("El Hamdaoui", "Hamdawi")),
    ("الزهراوي", "Zahraoui", ("Zahrawi",)),
    ("الوردي", "Ouardi", ("El Ouardi", "Wardi")),
    ("بنسعيد", "Bensaid", ("Ben Said", "Bensaïd")),
    ("بنعبد الله", "Benabdellah", ("Ben Abdellah", "Benabdallah")),
    ("بنشقرون", "Benchekroun", ("Ben Chekroun", "Benchakroun")),
    ("الصديقي", "Seddiki", ("Essedeki", "Siddiqi")),
    ("الرحالي", "Rahali", ("Errahali", "Rhali")),
    ("العطاوي", "Attaoui", ("El Attaoui",)),
    ("الهلالي", "Hilali", ("El Hilali", "Helali")),
    ("الخلفي", "Khalfi", ("El Khalfi",)),
    ("بنعلي", "Benali", ("Ben Ali", "Ben Aly")),
    ("الكبير", "Kabir", ("El Kabir", "Lakbir")),
    ("الصغير", "Seghir", ("Sghir", "Esseghir")),
    ("المصباحي", "Mesbahi", ("Misbahi", "El Mesbahi")),
    ("بوكيلي", "Boukili", ("Boukily",)),
    ("الغزواني", "Ghazouani", ("El Ghazouani", "Ghazwani")),
    ("الزموري", "Zemmouri", ("Zemouri", "Ezzemmouri")),
    ("الحيان", "Hayane", ("El Hayane",)),
)

# Foreign residents (a small share of households): common names of the main communities.
FOREIGN_MALE: tuple[NameEntry, ...] = (
    ("مامادو", "Mamadou", ()), ("موسى", "Moussa", ()), ("إبراهيما", "Ibrahima", ()),
    ("عصمان", "Ousmane", ()), ("جان", "Jean", ()), ("بيير", "Pierre", ()),
    ("كارلوس", "Carlos", ()), ("أمادو", "Amadou", ()), ("شيخ", "Cheikh", ()),
    ("لوكاس", "Lucas", ()), ("وي", "Wei", ()), ("أنطونيو", "Antonio", ()),
)  # fmt: skip
FOREIGN_FEMALE: tuple[NameEntry, ...] = (
    ("أميناتا", "Aminata", ()), ("فاتو", "Fatou", ()), ("ماريام", "Mariama", ()),
    ("ماري", "Marie", ()), ("صوفي", "Sophie", ()), ("كاميل", "Camille", ()),
    ("أوا", "Awa", ()), ("ماريا", "Maria", ()), ("لينغ", "Ling", ()),
    ("كاديدياتو", "Kadiatou", ()), ("آنا", "Ana", ()), ("جولي", "Julie", ()),
)  # fmt: skip
FOREIGN_FAMILY: tuple[NameEntry, ...] = (
    ("ديالو", "Diallo", ()), ("تراوري", "Traoré", ()), ("انجاي", "Ndiaye", ()),
    ("ديوب", "Diop", ()), ("كوني", "Koné", ()), ("كامارا", "Camara", ()),
    ("مارتان", "Martin", ()), ("دوبوا", "Dubois", ()), ("غارسيا", "García", ()),
    ("فرنانديث", "Fernández", ()), ("وانغ", "Wang", ()), ("سيسي", "Cissé", ()),
    ("روسي", "Rossi", ()), ("الحلبي", "Al Halabi", ()),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class NameTable:
    """A name list as parallel arrays, ready for vectorised sampling by index."""

    arabic: np.ndarray
    latin: np.ndarray
    cumulative: np.ndarray  # cumulative popularity weights, last value 1

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Indices of n names drawn by popularity."""
        return np.searchsorted(self.cumulative, rng.random(n), side="right").clip(
            0, len(self.arabic) - 1
        )


def _table(entries: tuple[NameEntry, ...], head_weight: float = 1.0, exponent: float = 0.8
           ) -> NameTable:  # fmt: skip
    # Zipf-like popularity (exponent 0.8); the first name can be boosted (Mohammed, Fatima).
    ranks = np.arange(1, len(entries) + 1, dtype=np.float64)
    weights = ranks**-exponent
    weights[0] *= head_weight
    cum = np.cumsum(weights) / weights.sum()
    return NameTable(
        arabic=np.asarray([e[0] for e in entries], dtype=object),
        latin=np.asarray([e[1] for e in entries], dtype=object),
        cumulative=cum,
    )


# More family names: Morocco has tens of thousands, and with only FAMILY a register of a million
# would hold twelve thousand persons per name, so many different people would share their full
# name, birth year and commune. Added: more nisba names, and patronymic names built on a
# forename, the most common pattern after the nisba (Ben Ahmed → Benahmed, Amazigh Ait Ali).
MORE_FAMILY: tuple[NameEntry, ...] = (
    ("الشرايبي", "Chraibi", ("Cheraibi",)), ("الفيلالي", "Filali", ("El Filali",)),
    ("السلاوي", "Slaoui", ("Sellaoui",)), ("الرباطي", "Rbati", ("Ribati",)),
    ("التطواني", "Tetouani", ("Titouani",)), ("المكناسي", "Meknassi", ("El Meknassi",)),
    ("الوجدي", "Oujdi", ("El Oujdi",)), ("الطنجاوي", "Tanjaoui", ("Tangaoui",)),
    ("الجابري", "Jabri", ("El Jabri",)), ("الساحلي", "Sahli", ("Essahli",)),
    ("الزعري", "Zaari", ("Ezzaari",)), ("الحريزي", "Harizi", ("El Harizi",)),
    ("العبدي", "Abdi", ("El Abdi",)), ("الغماري", "Ghomari", ("Ghoumari",)),
    ("الصنهاجي", "Sanhaji", ("Senhaji",)), ("المصمودي", "Masmoudi", ("Masmudi",)),
    ("الكتاني", "Kittani", ()), ("الوزاني", "Wazzani", ()),
    ("القباج", "Guebbaj", ("Kabbaj", "Qabbaj")), ("الصفريوي", "Sefrioui", ("Sefriwi",)),
    ("لحلو", "Lahlou", ("Lahlu",)), ("بنيس", "Bennis", ("Benis",)),
    ("الصقلي", "Sqalli", ("Skalli", "Seqalli")), ("العراقي", "Iraqi", ("Iraki", "El Iraqi")),
    ("الشامي", "Chami", ("Echami",)), ("الحلوي", "Halaoui", ()),
    ("البقالي", "Bekkali", ()), ("الودغيري", "Oudghiri", ("Oudghiry",)),
    ("المرابط", "Mourabit", ("El Mourabit",)), ("الطاهري", "Taheri", ("Ettaheri",)),
    ("البوعزاوي", "Bouazzaoui", ()), ("الكرومي", "Karoumi", ()),
    ("أمزيان", "Amzil", ()), ("أوفقير", "Oufkir", ()), ("أخنوش", "Akhannouch", ()),
    ("أزناك", "Aznak", ()), ("أمهال", "Amhal", ()), ("إدبلقاسم", "Id Belkacem", ()),
    ("أوعمو", "Ouammou", ()), ("بوعياد", "Bouayad", ()), ("بوستة", "Boucetta", ()),
    ("الدمناتي", "Demnati", ()), ("الزرهوني", "Zerhouni", ()), ("الهواري", "Houari", ()),
)  # fmt: skip


def _patronymic(entries: tuple[NameEntry, ...]) -> tuple[NameEntry, ...]:
    """Ben<forename> and Ait <forename> family names from the single-word forenames."""
    out: list[NameEntry] = []
    for arabic, latin, _variants in entries:
        if " " in arabic or " " in latin:
            continue
        bare = arabic[2:] if arabic.startswith("ال") else arabic
        ben = ("بن " if bare[0] in "أإآا" else "بن") + bare
        out.append((ben, "Ben" + latin.lower(), ("Ben " + latin,)))
        out.append(("آيت " + bare, "Ait " + latin, ("Aït " + latin, "Ait" + latin.lower())))
    return tuple(out)


def _unique(entries: tuple[NameEntry, ...]) -> tuple[NameEntry, ...]:
    seen: set[str] = set()
    out = []
    for e in entries:
        if e[0] not in seen and e[1] not in seen:
            seen.update((e[0], e[1]))
            out.append(e)
    return tuple(out)


ALL_FAMILY = _unique((*FAMILY, *MORE_FAMILY, *_patronymic(MALE)))

#: Second parts of composite male first names (Mohammed Amine, Mohammed Ali): a share of the
#: Mohammeds carry one, as in the register.
COMPOSITE_MALE_SHARE = 0.4
SECOND_MALE: tuple[tuple[str, str], ...] = (
    ("أمين", "Amine"), ("علي", "Ali"), ("رضا", "Reda"), ("ياسين", "Yassine"),
    ("المهدي", "El Mehdi"), ("طه", "Taha"), ("الأمين", "Lamine"), ("سعيد", "Said"),
    ("كريم", "Karim"), ("أنس", "Anas"), ("إدريس", "Driss"), ("عادل", "Adil"),
    ("يونس", "Younes"), ("الطاهر", "Taher"), ("زكرياء", "Zakaria"), ("هشام", "Hicham"),
)  # fmt: skip


def unit_hash(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A uniform number in [0, 1) per (a, b), without drawing from the generator's stream (the
    rest of the population stays what it was for a seed)."""
    x = a.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + b.astype(np.uint64)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def compose_male(arabic: np.ndarray, latin: np.ndarray, male: np.ndarray, u: np.ndarray
                 ) -> None:  # fmt: skip
    """Make a share of the Mohammeds composite, in place (u: a uniform per person)."""
    sel = np.flatnonzero(male & (latin == MALE[0][1]) & (u < COMPOSITE_MALE_SHARE))
    pick = (u[sel] / COMPOSITE_MALE_SHARE * len(SECOND_MALE)).astype(np.int64)
    pick = pick.clip(0, len(SECOND_MALE) - 1)
    arabic[sel] = [f"{MALE[0][0]} {SECOND_MALE[k][0]}" for k in pick]
    latin[sel] = [f"{MALE[0][1]} {SECOND_MALE[k][1]}" for k in pick]


MALE_TABLE = _table(MALE, head_weight=4.0)
FEMALE_TABLE = _table(FEMALE, head_weight=2.0)
FAMILY_TABLE = _table(ALL_FAMILY, exponent=0.6)
FOREIGN_MALE_TABLE = _table(FOREIGN_MALE)
FOREIGN_FEMALE_TABLE = _table(FOREIGN_FEMALE)
FOREIGN_FAMILY_TABLE = _table(FOREIGN_FAMILY)

VARIANTS: dict[str, tuple[str, ...]] = {
    e[1]: e[2] for e in (*MALE, *FEMALE, *ALL_FAMILY) if e[2]
}  # usual Latin spelling -> other spellings


def prefix_variant(latin: str, pick: float) -> str:
    """An El/Al prefix variant of a family name: El Idrissi -> Idrissi / Al Idrissi / Elidrissi."""
    for prefix in ("El ", "Al ", "Es", "Ez", "Et", "Er", "En", "Ech"):
        if latin.startswith(prefix) and prefix.endswith(" "):
            bare = latin[len(prefix) :]
            options = (bare, ("Al " if prefix == "El " else "El ") + bare, prefix.strip() + bare)
            return options[int(pick * len(options)) % len(options)]
    options = ("El " + latin, "Al " + latin, "El" + latin.lower())
    return options[int(pick * len(options)) % len(options)]


ARABIC_NORMALISATION = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي"})
