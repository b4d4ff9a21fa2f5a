"""Codes the sample records use: specialties, diagnoses, lab tests, medicines, vaccines.

Reference ranges are typical adult ranges as printed on Indian lab reports; medicine
prices are plausible Jan Aushadhi unit prices (invented, not the official list). GST on
medicines is 5% (2.5% CGST + 2.5% SGST) since the September 2025 rate change;
consultations and lab tests are healthcare services, exempt from GST.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from fhir_server.generate.fhir import CVX, ICD10, LOINC, SNOMED, concept

# --- specialties (SNOMED CT practice setting codes, as PractitionerRole.specialty) ------
GENERAL_MEDICINE = ("394802001", "General medicine")
PAEDIATRICS = ("394537008", "Pediatric specialty")
GYNAECOLOGY = ("394586005", "Gynecology")
PATHOLOGY = ("394915009", "General pathology (specialty)")
GENERAL_PRACTICE = ("394814009", "General practice (specialty)")
PHARMACY = ("46255001", "Pharmacist")

HOSPITAL_SPECIALTIES = (GENERAL_MEDICINE, PAEDIATRICS, GYNAECOLOGY, PATHOLOGY)


def specialty(code: tuple[str, str]) -> dict:
    return concept(SNOMED, code[0], code[1])


# --- diagnoses (ICD-10, WHO titles) ------------------------------------------------------
CONDITIONS: dict[str, str] = {
    "E11.9": "Type 2 diabetes mellitus without complications",
    "I10": "Essential (primary) hypertension",
    "J06.9": "Acute upper respiratory infection, unspecified",
    "A09": "Other gastroenteritis and colitis of infectious and unspecified origin",
    "D50.9": "Iron deficiency anaemia, unspecified",
    "E78.5": "Hyperlipidaemia, unspecified",
    "J18.9": "Pneumonia, unspecified",
    "A90": "Dengue fever [classical dengue]",
    "E03.9": "Hypothyroidism, unspecified",
    "J45.9": "Asthma, unspecified",
    "Z34.9": "Supervision of normal pregnancy, unspecified",
    "S52.5": "Fracture of lower end of radius",
    "M54.5": "Low back pain",
    "Z00.0": "General medical examination",
}
CHRONIC = frozenset({"E11.9", "I10", "E78.5", "E03.9", "J45.9"})


def diagnosis(code: str) -> dict:
    return concept(ICD10, code, CONDITIONS[code])


# --- lab tests (LOINC) -----------------------------------------------------------------
@dataclass(frozen=True)
class LabTest:
    loinc: str
    display: str
    short: str
    unit: str  # UCUM
    low: float | None
    high: float | None
    decimals: int = 1


HEMOGLOBIN = LabTest("718-7", "Hemoglobin [Mass/volume] in Blood", "Haemoglobin", "g/dL",
                     12.0, 15.5)  # fmt: skip
HEMOGLOBIN_MALE = LabTest("718-7", HEMOGLOBIN.display, "Haemoglobin", "g/dL", 13.5, 17.5)
WBC = LabTest("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "WBC count",
              "10*3/uL", 4.0, 11.0)  # fmt: skip
PLATELETS = LabTest("777-3", "Platelets [#/volume] in Blood by Automated count",
                    "Platelet count", "10*3/uL", 150, 410, 0)  # fmt: skip
HBA1C = LabTest("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "HbA1c", "%", None, 5.7)
FASTING_GLUCOSE = LabTest("1558-6", "Fasting glucose [Mass/volume] in Serum or Plasma",
                          "Fasting blood glucose", "mg/dL", 70, 100, 0)  # fmt: skip
CHOLESTEROL = LabTest("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma",
                      "Total cholesterol", "mg/dL", None, 200, 0)  # fmt: skip
HDL = LabTest("2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma",
              "HDL cholesterol", "mg/dL", 40, None, 0)  # fmt: skip
LDL = LabTest("13457-7", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by calculation",
              "LDL cholesterol", "mg/dL", None, 100, 0)  # fmt: skip
TRIGLYCERIDES = LabTest("2571-8", "Triglyceride [Mass/volume] in Serum or Plasma",
                        "Triglycerides", "mg/dL", None, 150, 0)  # fmt: skip
TSH = LabTest("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "TSH", "m[IU]/L",
              0.4, 4.0, 2)  # fmt: skip


@dataclass(frozen=True)
class Panel:
    key: str
    loinc: str
    display: str
    service: str  # v2-0074 diagnostic service section: HM haematology, CH chemistry
    specimen: tuple[str, str]  # SNOMED specimen type
    tests: tuple[LabTest, ...]
    price: Decimal  # user charge at a Delhi government lab, in rupees


WHOLE_BLOOD = ("119297000", "Blood specimen")
SERUM = ("119364003", "Serum specimen")

PANELS: dict[str, Panel] = {
    p.key: p
    for p in (
        Panel("cbc", "58410-2", "CBC panel - Blood by Automated count", "HM", WHOLE_BLOOD,
              (HEMOGLOBIN, WBC, PLATELETS), Decimal("150.00")),
        Panel("hba1c", "4548-4", HBA1C.display, "CH", WHOLE_BLOOD, (HBA1C,), Decimal("250.00")),
        Panel("fbs", "1558-6", FASTING_GLUCOSE.display, "CH", SERUM, (FASTING_GLUCOSE,),
              Decimal("40.00")),
        Panel("lipid", "24331-1", "Lipid 1996 panel - Serum or Plasma", "CH", SERUM,
              (CHOLESTEROL, HDL, LDL, TRIGLYCERIDES), Decimal("300.00")),
        Panel("tsh", "3016-3", TSH.display, "CH", SERUM, (TSH,), Decimal("200.00")),
    )
}  # fmt: skip


def lab_code(test: LabTest | Panel) -> dict:
    text = test.short if isinstance(test, LabTest) else test.display
    return concept(LOINC, test.loinc, test.display, text)


# --- medicines (generic names as Jan Aushadhi Kendras sell them) -------------------------
@dataclass(frozen=True)
class Medicine:
    key: str
    name: str
    unit: str  # dispensing unit
    unit_price: Decimal  # the rate per unit before GST (price component 01 "Rate")
    dosage: str
    per_day: int  # units a day, to size a 30-day supply


GST_RATE_MEDICINES = Decimal("0.05")


def mrp(med: Medicine) -> Decimal:
    """MRP per unit: the rate with GST, rounded up to the paisa (never sold above MRP)."""
    return (med.unit_price * (1 + GST_RATE_MEDICINES)).quantize(
        Decimal("0.01"), rounding=ROUND_CEILING
    )


MEDICINES: dict[str, Medicine] = {
    m.key: m
    for m in (
        Medicine("metformin", "Metformin 500 mg tablet", "tablet", Decimal("1.05"),
                 "1 tablet twice a day after meals", 2),
        Medicine("glimepiride", "Glimepiride 1 mg tablet", "tablet", Decimal("0.90"),
                 "1 tablet before breakfast", 1),
        Medicine("amlodipine", "Amlodipine 5 mg tablet", "tablet", Decimal("0.80"),
                 "1 tablet once a day in the morning", 1),
        Medicine("telmisartan", "Telmisartan 40 mg tablet", "tablet", Decimal("1.20"),
                 "1 tablet once a day", 1),
        Medicine("atorvastatin", "Atorvastatin 10 mg tablet", "tablet", Decimal("1.50"),
                 "1 tablet at bedtime", 1),
        Medicine("ifa", "Ferrous sulphate 100 mg + folic acid 0.5 mg tablet", "tablet",
                 Decimal("0.30"), "1 tablet once a day after lunch", 1),
        Medicine("paracetamol", "Paracetamol 500 mg tablet", "tablet", Decimal("0.40"),
                 "1 tablet up to three times a day if fever", 3),
        Medicine("paracetamol-syrup", "Paracetamol 125 mg/5 mL oral suspension, 60 mL",
                 "bottle", Decimal("12.00"), "5 mL three times a day if fever", 0),
        Medicine("ors", "Oral rehydration salts (WHO formula) sachet", "sachet",
                 Decimal("4.50"), "1 sachet in 1 litre of water, sip through the day", 1),
        Medicine("zinc", "Zinc sulphate 20 mg dispersible tablet", "tablet", Decimal("0.90"),
                 "1 tablet once a day for 14 days", 1),
        Medicine("levothyroxine", "Levothyroxine 50 mcg tablet", "tablet", Decimal("0.70"),
                 "1 tablet on an empty stomach in the morning", 1),
        Medicine("salbutamol", "Salbutamol 100 mcg inhaler, 200 doses", "inhaler",
                 Decimal("85.00"), "2 puffs when breathless", 0),
        Medicine("amoxicillin", "Amoxicillin 500 mg capsule", "capsule", Decimal("2.10"),
                 "1 capsule three times a day for 5 days", 3),
        Medicine("cetirizine", "Cetirizine 10 mg tablet", "tablet", Decimal("0.35"),
                 "1 tablet at night for 5 days", 1),
        Medicine("ondansetron", "Ondansetron 4 mg tablet", "tablet", Decimal("1.10"),
                 "1 tablet before meals if vomiting", 2),
    )
}  # fmt: skip


# --- vaccines (CVX) --------------------------------------------------------------------
VACCINES: dict[str, tuple[str, str]] = {
    "covishield": ("210", "COVID-19 vaccine, vector-nr, rS-ChAdOx1, PF, 0.5 mL"),
    "hepb-adult": ("43", "Hep B, adult"),
    "hepb-birth": ("08", "Hep B, adolescent or pediatric"),
    "bcg": ("19", "BCG"),
    "pentavalent": ("102", "DTP-Hib-Hep B"),
    "mr": ("04", "M/R"),
    "td": ("09", "Td (adult)"),
}


def vaccine(key: str) -> dict:
    code, display = VACCINES[key]
    return concept(CVX, code, display)


# --- allergies (SNOMED CT substances) -----------------------------------------------------
ALLERGENS: dict[str, tuple[str, str, str]] = {
    # key: (code, display, category)
    "penicillin": ("764146007", "Penicillin (substance)", "medication"),
    "sulfonamide": ("387406002", "Sulfonamide (substance)", "medication"),
    "peanut": ("256349002", "Peanut - dietary (substance)", "food"),
}

# --- what a doctor prescribes and orders for a diagnosis (generated patients) -------------
TREATMENT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # diagnosis: (medicines, lab panels)
    "E11.9": (("metformin",), ("hba1c", "fbs")),
    "I10": (("amlodipine",), ()),
    "E78.5": (("atorvastatin",), ("lipid",)),
    "D50.9": (("ifa",), ("cbc",)),
    "J06.9": (("paracetamol", "cetirizine"), ()),
    "A09": (("ors", "zinc"), ()),
    "E03.9": (("levothyroxine",), ("tsh",)),
    "J45.9": (("salbutamol",), ()),
    "A90": (("paracetamol",), ("cbc",)),
    "J18.9": (("amoxicillin", "paracetamol"), ("cbc",)),
    "M54.5": (("paracetamol",), ()),
    "Z00.0": ((), ("cbc", "fbs", "lipid")),
}
