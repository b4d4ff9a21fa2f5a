"""Common North Indian names in Latin script and Devanagari, for invented people.

Combinations are drawn at random, so any match
with a real person is coincidence.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# (Latin, Devanagari, community): names are drawn within a community, so that a
# given name goes with a family name people would actually combine it with.
H, M, S = "hindu", "muslim", "sikh"

MALE: tuple[tuple[str, str, str], ...] = (
    ("Aarav", "आरव", H), ("Amit", "अमित", H), ("Anil", "अनिल", H), ("Arjun", "अर्जुन", H),
    ("Deepak", "दीपक", H), ("Gaurav", "गौरव", H), ("Harish", "हरीश", H), ("Karan", "करण", H),
    ("Manoj", "मनोज", H), ("Mohit", "मोहित", H), ("Naveen", "नवीन", H), ("Pankaj", "पंकज", H),
    ("Rahul", "राहुल", H), ("Rajesh", "राजेश", H), ("Ramesh", "रमेश", H), ("Sandeep", "संदीप", H),
    ("Sanjay", "संजय", H), ("Suresh", "सुरेश", H), ("Tarun", "तरुण", H), ("Vikas", "विकास", H),
    ("Vinod", "विनोद", H), ("Yash", "यश", H), ("Ashok", "अशोक", H), ("Mukesh", "मुकेश", H),
    ("Nitin", "नितिन", H), ("Imran", "इमरान", M), ("Zubair", "ज़ुबैर", M), ("Salim", "सलीम", M),
    ("Arif", "आरिफ़", M), ("Faisal", "फ़ैसल", M), ("Gurpreet", "गुरप्रीत", S),
    ("Harjeet", "हरजीत", S), ("Manpreet", "मनप्रीत", S),
)  # fmt: skip

FEMALE: tuple[tuple[str, str, str], ...] = (
    ("Aarti", "आरती", H), ("Anjali", "अंजलि", H), ("Anita", "अनीता", H), ("Deepika", "दीपिका", H),
    ("Divya", "दिव्या", H), ("Geeta", "गीता", H), ("Jyoti", "ज्योति", H), ("Kavita", "कविता", H),
    ("Kiran", "किरण", H), ("Lakshmi", "लक्ष्मी", H), ("Manju", "मंजू", H), ("Meena", "मीना", H),
    ("Neha", "नेहा", H), ("Pooja", "पूजा", H), ("Preeti", "प्रीति", H), ("Rekha", "रेखा", H),
    ("Ritu", "रितु", H), ("Sapna", "सपना", H), ("Seema", "सीमा", H), ("Sunita", "सुनीता", H),
    ("Usha", "उषा", H), ("Poonam", "पूनम", H), ("Renu", "रेनू", H), ("Swati", "स्वाति", H),
    ("Farah", "फ़राह", M), ("Shabnam", "शबनम", M), ("Nazia", "नाज़िया", M), ("Rukhsar", "रुख़सार", M),
    ("Simran", "सिमरन", S), ("Harpreet", "हरप्रीत", S), ("Jaspreet", "जसप्रीत", S),
)  # fmt: skip

FAMILY: tuple[tuple[str, str, str], ...] = (
    ("Agarwal", "अग्रवाल", H), ("Bansal", "बंसल", H), ("Bhatia", "भाटिया", H),
    ("Chauhan", "चौहान", H), ("Gupta", "गुप्ता", H), ("Jain", "जैन", H), ("Joshi", "जोशी", H),
    ("Kumar", "कुमार", H), ("Malhotra", "मल्होत्रा", H), ("Mishra", "मिश्रा", H),
    ("Negi", "नेगी", H), ("Pandey", "पांडे", H), ("Rawat", "रावत", H), ("Saxena", "सक्सेना", H),
    ("Sharma", "शर्मा", H), ("Srivastava", "श्रीवास्तव", H), ("Tiwari", "तिवारी", H),
    ("Tyagi", "त्यागी", H), ("Verma", "वर्मा", H), ("Yadav", "यादव", H),
    ("Chaudhary", "चौधरी", H), ("Rana", "राणा", H), ("Sethi", "सेठी", H),
    ("Ahmed", "अहमद", M), ("Khan", "ख़ान", M), ("Qureshi", "क़ुरैशी", M), ("Ansari", "अंसारी", M),
    ("Singh", "सिंह", S), ("Kaur", "कौर", S), ("Gill", "गिल", S),
)  # fmt: skip

# given names popular only with today's children
YOUNG = frozenset({"Aarav", "Yash"})


@dataclass(frozen=True)
class PersonName:
    given: str
    family: str
    given_hi: str
    family_hi: str

    @property
    def latin(self) -> str:
        return f"{self.given} {self.family}"

    @property
    def devanagari(self) -> str:
        return f"{self.given_hi} {self.family_hi}"

    def fhir(self, prefix: str | None = None) -> list[dict]:
        """name[0]: official, Latin; name[1]: the same name as text in Devanagari."""
        official: dict = {"use": "official", "text": self.latin, "family": self.family}
        official["given"] = [self.given]
        if prefix:
            official["prefix"] = [prefix]
        return [official, {"use": "usual", "text": self.devanagari}]


def make(given: tuple[str, ...], family: tuple[str, ...]) -> PersonName:
    return PersonName(given[0], family[0], given[1], family[1])


def draw(rng: random.Random, gender: str) -> PersonName:
    family = rng.choice(FAMILY)
    if family[0] in ("Singh", "Kaur"):
        # a Sikh man is Singh and a Sikh woman Kaur
        family = ("Singh", "सिंह", S) if gender == "male" else ("Kaur", "कौर", S)
    pool = [g for g in (MALE if gender == "male" else FEMALE) if g[2] == family[2]]
    return make(rng.choice(pool), family)
