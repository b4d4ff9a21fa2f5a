"""The seed network's patients, written by hand: thirteen invented people whose
records tell a plausible story (a diabetic seen at her AAM and at Lok Nayak, a
pneumonia admission under AB-PMJAY, a child's vaccinations, dengue in September...).

Asha Sharma and Ravi Kumar keep the ids, ABHAs and the first visit of the first sample
(pat-aam-asha, pat-lnh-asha, pat-gtbh-ravi, enc-aam-asha-1, obs-aam-asha-hba1c,
medreq-aam-asha-1), which the record page's browser test relies on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fhir_server.generate.facilities import Staff
from fhir_server.generate.names import make
from fhir_server.generate.places import facility
from fhir_server.generate.records import Person, Visit


@dataclass(frozen=True)
class Booking:
    """A booked appointment in the slot window: the Slot turns busy."""

    person: str
    org_id: str
    schedule_id: str
    start: datetime
    minutes: int
    role_id: str | None  # the doctor's PractitionerRole, None for a lab collection


def _p(key: str, given: tuple[str, str], family: tuple[str, str], gender: str, born: str,
       abha: str, address: str, phone: str, home: tuple[str, str, str],
       **extra: object) -> Person:  # fmt: skip
    return Person(key, make(given, family), gender, born, abha, address, phone, home, **extra)


PEOPLE: tuple[Person, ...] = (
    _p("asha", ("Asha", "आशा"), ("Sharma", "शर्मा"), "female", "1985-04-12",
       "22-7225-4829-5255", "asha.sharma@abdm", "+91-98100-00412",
       ("C-27, Sector 10, Dwarka", "South West Delhi", "110075"),
       allergies=("sulfonamide",),
       patient_ids={"org-aam-dwarka": "pat-aam-asha", "org-lnh": "pat-lnh-asha"},
       renamed={"obs-aam-asha-1-hba1c": "obs-aam-asha-hba1c",
                "medreq-aam-asha-1-1": "medreq-aam-asha-1"}),
    _p("ravi", ("Ravi", "रवि"), ("Kumar", "कुमार"), "male", "1972-09-30",
       "91-4567-1234-8890", "ravi.kumar@abdm", "+91-98110-00930",
       ("C-14, Dilshad Garden", "Shahdara", "110095"),
       pmjay_id="PX7K2M9QD", patient_ids={"org-gtbh": "pat-gtbh-ravi"}),
    _p("sunita", ("Sunita", "सुनीता"), ("Devi", "देवी"), "female", "1996-02-18",
       "43-8812-0563-2217", "sunita.devi96@abdm", "+91-98730-00218",
       ("Block 20, Kalyanpuri", "East Delhi", "110091"), pmjay_id="PB4N8T1RW"),
    _p("imran", ("Mohammed Imran", "मोहम्मद इमरान"), ("Qureshi", "क़ुरैशी"), "male",
       "1963-11-05", "56-2290-7741-3308", "imran.qureshi@abdm", "+91-98180-01105",
       ("Gali No. 4, Seelampur", "North East Delhi", "110053"), pmjay_id="PH3D6V5YK"),
    _p("aarav", ("Aarav", "आरव"), ("Gupta", "गुप्ता"), "male", "2023-03-15",
       "34-6617-2089-4451", "aarav.gupta@abdm", "+91-98990-00315",
       ("B-212, Model Town II", "North Delhi", "110009")),
    _p("priya", ("Priya", "प्रिया"), ("Singh", "सिंह"), "female", "2001-07-22",
       "28-3304-9916-0072", "priya.singh01@abdm", "+91-97110-00722",
       ("WZ-118, Hari Nagar", "West Delhi", "110064"), allergies=("peanut",)),
    _p("ramesh", ("Ramesh Chand", "रमेश चंद"), ("Yadav", "यादव"), "male", "1956-01-10",
       "67-1023-5548-9031", "ramesh.yadav56@abdm", "+91-98680-00110",
       ("H-3/45, Jahangirpuri", "North West Delhi", "110033"),
       allergies=("penicillin",), pmjay_id="PR9C4L7GS"),
    _p("kavita", ("Kavita", "कविता"), ("Rawat", "रावत"), "female", "1979-06-30",
       "19-5530-2274-6618", "kavita.rawat@abdm", "+91-98710-00630",
       ("Shivalik Road, Malviya Nagar", "South Delhi", "110017")),
    _p("harpreet", ("Harpreet", "हरप्रीत"), ("Kaur", "कौर"), "female", "1988-12-03",
       "81-4409-6673-2250", "harpreet.kaur@abdm", "+91-98110-01203",
       ("Block 14, Tilak Nagar", "West Delhi", "110018")),
    _p("fatima", ("Fatima", "फ़ातिमा"), ("Bano", "बानो"), "female", "1991-08-14",
       "72-0086-3315-9947", "fatima.bano@abdm", "+91-98180-00814",
       ("Turkman Gate, Daryaganj", "Central Delhi", "110002"), pmjay_id="PF2W7J3NA"),
    _p("deepak", ("Deepak", "दीपक"), ("Joshi", "जोशी"), "male", "1990-05-25",
       "38-7715-4402-1186", "deepak.joshi90@abdm", "+91-98910-00525",
       ("Sector 4, R.K. Puram", "New Delhi", "110022")),
    _p("geeta", ("Geeta", "गीता"), ("Rani", "रानी"), "female", "1951-10-02",
       "95-2218-8834-0571", "geeta.rani51@abdm", "+91-98100-01002",
       ("Sector 9, Dwarka", "South West Delhi", "110077"), pmjay_id="PV5Q1H8ZE"),
    _p("neha", ("Neha", "नेहा"), ("Chauhan", "चौहान"), "female", "2016-08-09",
       "46-9901-3327-7785", "neha.chauhan16@abdm", "+91-98730-00809",
       ("Sector 11, Rohini", "North West Delhi", "110085")),
)  # fmt: skip


def visits(doc: dict[tuple[str, str], Staff]) -> dict[str, list[Visit]]:
    """Each person's visits, in the order their Encounters are numbered per facility."""

    def v(org_id: str, role: str, when: str, **kw: object) -> Visit:
        site = facility(org_id)
        pathologist = doc.get((org_id, "pathology"))
        return Visit(site, doc[(org_id, role)], datetime.fromisoformat(when),
                     pathologist=pathologist, **kw)  # fmt: skip

    return {
        "asha": [
            v("org-aam-dwarka", "mo", "2026-10-05T10:00", diagnoses=("E11.9",),
              medicines=("metformin",), labs=("hba1c",), values={"4548-4": 7.2}),
            v("org-lnh", "medicine", "2026-07-14T10:30", diagnoses=("E11.9", "E78.5"),
              medicines=("atorvastatin",), labs=("fbs", "lipid", "cbc"),
              values={"1558-6": 148, "2093-3": 232, "13457-7": 151}),
            v("org-aam-dwarka", "mo", "2026-11-09T09:40", diagnoses=("E11.9",),
              medicines=("metformin",), labs=("fbs",), values={"1558-6": 126}),
            v("org-aam-dwarka", "mo", "2025-09-02T11:00", vaccines=("hepb-adult",)),
        ],
        "ravi": [
            v("org-gtbh", "medicine", "2026-06-02T09:30", diagnoses=("I10",),
              medicines=("amlodipine",), labs=("lipid",)),
            v("org-aam-vivekvihar", "mo", "2026-09-15T10:15", diagnoses=("I10",),
              medicines=("amlodipine",)),
            v("org-gtbh", "medicine", "2026-10-20T11:00", kind="IMP", days=4,
              diagnoses=("J18.9",), medicines=("amoxicillin", "paracetamol"), labs=("cbc",),
              values={"6690-2": 15.8}),
        ],
        "sunita": [
            v("org-aam-kalyanpuri", "mo", "2026-05-06T09:20", diagnoses=("Z34.9", "D50.9"),
              medicines=("ifa",), labs=("cbc",), values={"718-7": 9.4}, vaccines=("td",)),
            v("org-lbsh", "gynae", "2026-06-10T10:00", diagnoses=("Z34.9", "D50.9"),
              medicines=("ifa",), labs=("cbc",), values={"718-7": 10.3}),
            v("org-aam-kalyanpuri", "mo", "2026-06-03T09:00", vaccines=("td",)),
        ],
        "imran": [
            v("org-aam-seelampur", "mo", "2026-03-12T09:45", diagnoses=("E11.9", "I10"),
              medicines=("metformin", "telmisartan"), labs=("hba1c", "fbs")),
            v("org-jpch", "medicine", "2026-08-20T21:10", kind="EMER", diagnoses=("A90",),
              medicines=("paracetamol",), labs=("cbc",), values={"777-3": 62}),
            v("org-aam-seelampur", "mo", "2026-10-01T10:30", diagnoses=("E11.9",),
              medicines=("metformin", "telmisartan"), labs=("hba1c",), values={"4548-4": 7.9}),
        ],
        "aarav": [
            v("org-aam-modeltown", "mo", "2023-03-17T10:00", vaccines=("hepb-birth", "bcg")),
            v("org-aam-modeltown", "mo", "2023-04-28T10:00", vaccines=("pentavalent",)),
            v("org-aam-modeltown", "mo", "2024-01-10T10:30", vaccines=("mr",)),
            v("org-aaagh", "paediatrics", "2026-02-11T11:20", diagnoses=("J06.9",),
              medicines=("paracetamol-syrup",)),
            v("org-aam-modeltown", "mo", "2026-09-08T09:15", diagnoses=("A09",),
              medicines=("ors", "zinc")),
        ],
        "priya": [
            v("org-aam-janakpuri", "mo", "2026-01-20T09:30", diagnoses=("J45.9",),
              medicines=("salbutamol",)),
            v("org-dduh", "medicine", "2026-09-03T22:40", kind="EMER", diagnoses=("A09",),
              medicines=("ors", "ondansetron")),
        ],
        "ramesh": [
            v("org-sgmh", "medicine", "2026-02-17T10:10", diagnoses=("E11.9", "I10", "E78.5"),
              medicines=("metformin", "glimepiride", "amlodipine", "atorvastatin"),
              labs=("hba1c", "lipid"), values={"4548-4": 8.6}),
            v("org-aam-jahangirpuri", "mo", "2026-05-19T09:50", diagnoses=("E11.9",),
              medicines=("metformin", "glimepiride"), labs=("fbs",)),
            v("org-sgmh", "medicine", "2026-09-01T12:00", kind="IMP", days=5,
              diagnoses=("J18.9",), medicines=("paracetamol",), labs=("cbc",)),
        ],
        "kavita": [
            v("org-mmmh", "medicine", "2026-04-08T09:40", diagnoses=("E03.9",),
              medicines=("levothyroxine",), labs=("tsh",), values={"3016-3": 8.9}),
            v("org-mmmh", "medicine", "2026-07-08T09:20", diagnoses=("E03.9",),
              medicines=("levothyroxine",), labs=("tsh",), values={"3016-3": 3.1}),
        ],
        "harpreet": [
            v("org-aam-tilaknagar", "mo", "2026-03-03T10:40", diagnoses=("J06.9",),
              medicines=("paracetamol", "cetirizine")),
            v("org-dduh", "gynae", "2026-06-16T10:20", diagnoses=("D50.9",),
              medicines=("ifa",), labs=("cbc",), values={"718-7": 10.1}),
        ],
        "fatima": [
            v("org-lnh", "medicine", "2026-09-21T20:30", kind="EMER", diagnoses=("A90",),
              medicines=("paracetamol",), labs=("cbc",),
              values={"777-3": 48, "6690-2": 3.1}),
            v("org-aam-daryaganj", "mo", "2026-09-29T09:30", diagnoses=("A90",),
              labs=("cbc",), values={"777-3": 165, "6690-2": 5.4}),
        ],
        "deepak": [
            v("org-aam-rkpuram", "mo", "2022-01-19T11:00", vaccines=("covishield",)),
            v("org-aam-rkpuram", "mo", "2026-01-14T09:10", diagnoses=("Z00.0",),
              labs=("cbc", "fbs", "lipid")),
        ],
        "geeta": [
            v("org-igh", "medicine", "2026-04-22T10:50", diagnoses=("I10",),
              medicines=("telmisartan",), labs=("cbc", "lipid")),
            v("org-aam-palam", "mo", "2026-08-12T09:35", diagnoses=("I10", "M54.5"),
              medicines=("telmisartan", "paracetamol")),
        ],
        "neha": [
            v("org-bsah", "paediatrics", "2026-07-07T10:05", diagnoses=("D50.9",),
              medicines=("ifa",), labs=("cbc",), values={"718-7": 9.8}),
            v("org-aam-rohini16", "mo", "2026-10-13T09:25", diagnoses=("J06.9",),
              medicines=("paracetamol-syrup",)),
        ],
    }  # fmt: skip


BOOKINGS: tuple[Booking, ...] = (
    Booking("asha", "org-aam-dwarka", "sched-aam-dwarka-mo", datetime(2026, 12, 8, 9, 0), 20,
            "role-aam-dwarka-mo"),
    Booking("ravi", "org-gtbh", "sched-gtbh-medicine", datetime(2026, 12, 3, 9, 20), 20,
            "role-gtbh-medicine"),
    Booking("kavita", "org-mmmh", "sched-mmmh-lab", datetime(2026, 12, 2, 8, 0), 30, None),
)  # fmt: skip
