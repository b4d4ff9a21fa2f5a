"""Patients and their history: one Patient per facility that saw the person (all
sharing the ABHA), and per visit an Encounter with what happened in it.

Ids are derived from the person's key, the facility and a visit number
(`pat-lnh-asha`, `enc-lnh-asha-1`, `obs-lnh-asha-1-hba1c`...), so rebuilding gives the
same ids; `Person.renamed` keeps the ids of the first sample where they differ.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from fhir_server.generate import billing, clinical
from fhir_server.generate.clinical import LabTest, Panel
from fhir_server.generate.facilities import Staff
from fhir_server.generate.fhir import (
    INTERPRETATION,
    SNOMED,
    V3_ACT,
    Resource,
    abha_identifiers,
    coding,
    concept,
    delhi_address,
    quantity,
    ref,
)
from fhir_server.generate.names import PersonName
from fhir_server.generate.places import Facility, nearest_jak

CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DIAGNOSTIC_SERVICE = "http://terminology.hl7.org/CodeSystem/v2-0074"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
_CLASS = {"AMB": "ambulatory", "IMP": "inpatient encounter", "EMER": "emergency"}
_ENCOUNTER_TYPE = {
    "AMB": ("11429006", "Consultation"),
    "IMP": ("32485007", "Hospital admission"),
    "EMER": ("50849002", "Emergency room admission"),
}
ROUTE = "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration"
_ROUTES = {
    "bcg": ("IDINJ", "Injection, intradermal"),
    "default": ("IM", "Injection, intramuscular"),
}
_INTERPRETATION = {"H": "High", "L": "Low", "N": "Normal"}
OPD_FEE = Decimal("10.00")  # registration card at a Delhi government hospital
BED_DAY = Decimal("1800.00")  # AB-PMJAY general ward day rate (illustrative)


@dataclass(frozen=True)
class Person:
    key: str  # short, unique; goes into every id
    name: PersonName
    gender: str
    birth_date: str
    abha_number: str
    abha_address: str
    phone: str
    home: tuple[str, str, str]  # line, district, PIN
    allergies: tuple[str, ...] = ()
    pmjay_id: str | None = None
    renamed: dict[str, str] = field(default_factory=dict)  # generated id -> kept id
    patient_ids: dict[str, str] = field(default_factory=dict)  # org id -> kept Patient id


@dataclass(frozen=True)
class Visit:
    site: Facility
    doctor: Staff
    when: datetime  # local time in Delhi
    kind: str = "AMB"  # AMB | IMP | EMER
    diagnoses: tuple[str, ...] = ()
    medicines: tuple[str, ...] = ()
    labs: tuple[str, ...] = ()  # panel keys
    values: dict[str, float] = field(default_factory=dict)  # LOINC -> value, else drawn
    vaccines: tuple[str, ...] = ()
    days: int = 0  # length of stay (IMP)
    dispensed: bool = True  # the medicines were collected at a Jan Aushadhi Kendra
    pathologist: Staff | None = None


def local(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S}+05:30"


def draw_value(test: LabTest, diagnoses: set[str], gender: str, rng: random.Random) -> float:
    """A result consistent with the person's diagnoses (abnormal where the disease is)."""
    low_high: dict[str, tuple[float, float]] = {
        "4548-4": (6.8, 9.4) if "E11.9" in diagnoses else (4.8, 5.6),
        "1558-6": (128, 210) if "E11.9" in diagnoses else (76, 98),
        "718-7": (8.2, 10.8)
        if "D50.9" in diagnoses
        else ((13.8, 16.4) if gender == "male" else (12.2, 14.6)),
        "6690-2": (12.5, 17.5)
        if "J18.9" in diagnoses
        else ((2.6, 3.8) if "A90" in diagnoses else (5.0, 9.5)),
        "777-3": (38, 110) if "A90" in diagnoses else (180, 380),
        "2093-3": (215, 275) if "E78.5" in diagnoses else (148, 196),
        "2085-9": (33, 44) if "E78.5" in diagnoses else (42, 62),
        "13457-7": (128, 185) if "E78.5" in diagnoses else (68, 98),
        "2571-8": (165, 255) if "E78.5" in diagnoses else (85, 145),
        "3016-3": (6.2, 11.8) if "E03.9" in diagnoses else (0.9, 3.6),
    }
    low, high = low_high[test.loinc]
    return round(rng.uniform(low, high), test.decimals)


def flag(test: LabTest, value: float) -> str:
    if test.low is not None and value < test.low:
        return "L"
    if test.high is not None and value > test.high:
        return "H"
    return "N"


def reference_range(test: LabTest) -> dict:
    out: dict = {}
    if test.low is not None:
        out["low"] = quantity(test.low, test.unit)
    if test.high is not None:
        out["high"] = quantity(test.high, test.unit)
    if test.low is not None and test.high is not None:
        out["text"] = f"{test.low:g}-{test.high:g} {test.unit}"
    elif test.high is not None:
        out["text"] = f"< {test.high:g} {test.unit}"
    else:
        out["text"] = f"> {test.low:g} {test.unit}"
    return out


class RecordBuilder:
    """Builds one person's Patients and history, visit by visit."""

    def __init__(self, person: Person, rng: random.Random) -> None:
        self.person = person
        self.rng = rng
        self.resources: list[Resource] = []
        self._patients: dict[str, str] = {}  # org id -> Patient id
        self._visits: dict[str, int] = {}  # Patient id -> visits so far
        self._conditions: dict[tuple[str, str], str] = {}  # (Patient id, ICD) -> Condition id
        self._accounts: dict[str, str] = {}  # Patient id -> Account id
        self._coverage: dict[str, str] = {}
        self._invoices = 0

    # --- ids -------------------------------------------------------------------------
    def _id(self, generated: str) -> str:
        return self.person.renamed.get(generated, generated)

    def patient_id(self, site: Facility) -> str:
        if site.org_id not in self._patients:
            pid = self.person.patient_ids.get(site.org_id, f"pat-{site.slug}-{self.person.key}")
            self._patients[site.org_id] = pid
            self.resources.append(self._patient(pid, site))
            self._allergies(pid, site)
            if self.person.pmjay_id and site.kind == "hospital":
                self._coverage_for(pid)  # hospitals verify AB-PMJAY cards at registration
        return self._patients[site.org_id]

    # --- resources ---------------------------------------------------------------------
    def _patient(self, pid: str, site: Facility) -> Resource:
        p = self.person
        line, district, pin = p.home
        return {
            "resourceType": "Patient",
            "id": pid,
            "identifier": abha_identifiers(p.abha_number, p.abha_address),
            "active": True,
            "name": p.name.fhir(),
            "telecom": [{"system": "phone", "value": p.phone, "use": "mobile"}],
            "gender": p.gender,
            "birthDate": p.birth_date,
            "address": [delhi_address(line, district, pin, "home")],
            "communication": [
                {"language": concept("urn:ietf:bcp:47", "hi", "Hindi"), "preferred": True}
            ],
            "managingOrganization": ref("Organization", site.org_id, site.name),
        }

    def _allergies(self, pid: str, site: Facility) -> None:
        for key in self.person.allergies:
            code, display, category = clinical.ALLERGENS[key]
            self.resources.append(
                {
                    "resourceType": "AllergyIntolerance",
                    "id": f"allergy-{pid.removeprefix('pat-')}-{key}",
                    "clinicalStatus": concept(
                        "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                        "active",
                        "Active",
                    ),
                    "verificationStatus": concept(
                        "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                        "confirmed",
                        "Confirmed",
                    ),
                    "type": "allergy",
                    "category": [category],
                    "criticality": "high" if category == "medication" else "low",
                    "code": concept(SNOMED, code, display),
                    "patient": ref("Patient", pid),
                    "asserter": ref("Patient", pid),
                    "note": [{"text": f"Reported by the patient at {site.name}"}],
                }
            )

    def visit(self, v: Visit) -> str:
        """Add an Encounter and everything that happened in it; returns the Encounter id."""
        pid = self.patient_id(v.site)
        n = self._visits.get(pid, 0) + 1
        self._visits[pid] = n
        suffix = f"{pid.removeprefix('pat-')}-{n}"
        enc_id = self._id(f"enc-{suffix}")
        end = v.when + (
            timedelta(days=v.days, hours=3)
            if v.kind == "IMP"
            else timedelta(hours=4)
            if v.kind == "EMER"
            else timedelta(minutes=20)
        )
        conditions = [self._condition(pid, enc_id, code, v) for code in v.diagnoses]
        self.resources.append(self._encounter(enc_id, pid, v, end, conditions))
        lab_lines = [self._lab(pid, enc_id, suffix, key, v) for key in v.labs]
        requests = [
            self._medication_request(pid, enc_id, suffix, i, key, v)
            for i, key in enumerate(v.medicines, start=1)
        ]
        for i, key in enumerate(v.vaccines, start=1):
            self._immunization(pid, enc_id, f"{suffix}-{i}", key, v)
        if v.site.kind == "hospital":
            self._hospital_bill(pid, enc_id, suffix, v, end, lab_lines, conditions)
        if requests and v.dispensed:
            self._dispense(pid, suffix, v, requests)
        return enc_id

    def _encounter(
        self, enc_id: str, pid: str, v: Visit, end: datetime, conditions: list[str]
    ) -> Resource:
        code, display = _ENCOUNTER_TYPE[v.kind]
        enc: Resource = {
            "resourceType": "Encounter",
            "id": enc_id,
            "status": "finished",
            "class": coding(V3_ACT, v.kind, _CLASS[v.kind]),
            "type": [concept(SNOMED, code, display)],
            "subject": ref("Patient", pid, self.person.name.latin),
            "participant": [
                {
                    "type": [concept(PARTICIPANT_TYPE, "ATND", "attender")],
                    "individual": ref(
                        "Practitioner", v.doctor.practitioner_id, f"Dr. {v.doctor.name.latin}"
                    ),
                }
            ],
            "period": {"start": local(v.when), "end": local(end)},
        }
        if conditions:
            enc["diagnosis"] = [
                {"condition": ref("Condition", cid), "rank": i}
                for i, cid in enumerate(conditions, start=1)
            ]
        if v.kind == "IMP":
            enc["hospitalization"] = {
                "admitSource": concept(
                    "http://terminology.hl7.org/CodeSystem/admit-source",
                    "outp",
                    "From outpatient department",
                ),
                "dischargeDisposition": concept(
                    "http://terminology.hl7.org/CodeSystem/discharge-disposition", "home", "Home"
                ),
            }
        enc["location"] = [{"location": ref("Location", v.site.location_id, v.site.name)}]
        enc["serviceProvider"] = ref("Organization", v.site.org_id, v.site.name)
        return enc

    def _condition(self, pid: str, enc_id: str, code: str, v: Visit) -> str:
        key = (pid, code)
        if key in self._conditions:
            return self._conditions[key]
        cid = f"cond-{pid.removeprefix('pat-')}-{code.replace('.', '').lower()}"
        self._conditions[key] = cid
        chronic = code in clinical.CHRONIC
        cond: Resource = {
            "resourceType": "Condition",
            "id": cid,
            "clinicalStatus": concept(
                CONDITION_CLINICAL,
                "active" if chronic else "resolved",
                "Active" if chronic else "Resolved",
            ),
            "verificationStatus": concept(CONDITION_VERIFICATION, "confirmed", "Confirmed"),
            "category": [
                concept(CONDITION_CATEGORY, "problem-list-item", "Problem List Item")
                if chronic
                else concept(CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis")
            ],
            "code": clinical.diagnosis(code),
            "subject": ref("Patient", pid),
            "encounter": ref("Encounter", enc_id),
            "onsetDateTime": local(v.when - timedelta(days=120 if chronic else 3)),
        }
        if not chronic:
            cond["abatementDateTime"] = local(v.when + timedelta(days=7 + v.days))
        cond["recordedDate"] = local(v.when)
        cond["recorder"] = ref("Practitioner", v.doctor.practitioner_id)
        self.resources.append(cond)
        return cid

    def _lab(self, pid: str, enc_id: str, suffix: str, key: str, v: Visit) -> billing.Line:
        panel: Panel = clinical.PANELS[key]
        collected = v.when + timedelta(minutes=30)
        issued = collected + timedelta(hours=5)
        sr_id = self._id(f"sr-{suffix}-{key}")
        spec_id = self._id(f"spec-{suffix}-{key}")
        performer = (
            ref("Practitioner", v.pathologist.practitioner_id, f"Dr. {v.pathologist.name.latin}")
            if v.pathologist
            else ref("Organization", v.site.org_id, v.site.name)
        )
        request: Resource = {
            "resourceType": "ServiceRequest",
            "id": sr_id,
            "status": "completed",
            "intent": "order",
            "category": [concept(SNOMED, "108252007", "Laboratory procedure")],
            "code": clinical.lab_code(panel),
            "subject": ref("Patient", pid),
            "encounter": ref("Encounter", enc_id),
            "authoredOn": local(v.when),
            "requester": ref("Practitioner", v.doctor.practitioner_id),
            "performer": [ref("Organization", v.site.org_id, v.site.name)],
        }
        if v.diagnoses:
            request["reasonReference"] = [ref("Condition", self._conditions[(pid, v.diagnoses[0])])]
        self.resources.append(request)
        self.resources.append(
            {
                "resourceType": "Specimen",
                "id": spec_id,
                "status": "available",
                "type": concept(SNOMED, *panel.specimen),
                "subject": ref("Patient", pid),
                "receivedTime": local(collected + timedelta(minutes=20)),
                "request": [ref("ServiceRequest", sr_id)],
                "collection": {
                    "collectedDateTime": local(collected),
                    "bodySite": concept(SNOMED, "368208006", "Left upper arm structure"),
                },
            }
        )
        diagnoses = set(v.diagnoses) | {c for (p, c) in self._conditions if p == pid}
        results = []
        for test in panel.tests:
            if test.loinc == "718-7" and self.person.gender == "male":
                test = clinical.HEMOGLOBIN_MALE
            value = v.values.get(test.loinc)
            if value is None:
                value = draw_value(test, diagnoses, self.person.gender, self.rng)
            obs_id = self._id(f"obs-{suffix}-{_test_key(test)}")
            results.append(obs_id)
            self.resources.append(
                self._observation(
                    obs_id, pid, enc_id, sr_id, spec_id, test, value, v, issued, performer
                )
            )
        report = {
            "resourceType": "DiagnosticReport",
            "id": self._id(f"dr-{suffix}-{key}"),
            "basedOn": [ref("ServiceRequest", sr_id)],
            "status": "final",
            "category": [
                concept(
                    DIAGNOSTIC_SERVICE,
                    panel.service,
                    "Hematology" if panel.service == "HM" else "Chemistry",
                )
            ],
            "code": clinical.lab_code(panel),
            "subject": ref("Patient", pid),
            "encounter": ref("Encounter", enc_id),
            "effectiveDateTime": local(collected),
            "issued": local(issued),
            "performer": [performer],
            "specimen": [ref("Specimen", spec_id)],
            "result": [ref("Observation", o) for o in results],
        }
        flags = [
            r
            for r in self.resources[-len(results) :]
            if r["interpretation"][0]["coding"][0]["code"] != "N"
        ]
        report["conclusion"] = (
            "Abnormal: " + ", ".join(f["code"]["text"] for f in flags)
            if flags
            else "Within reference limits"
        )
        self.resources.append(report)
        return billing.Line(
            f"chg-{suffix}-{key}", f"LAB-{key.upper()}", panel.display, Decimal(1), panel.price
        )

    def _observation(
        self,
        obs_id: str,
        pid: str,
        enc_id: str,
        sr_id: str,
        spec_id: str,
        test: LabTest,
        value: float,
        v: Visit,
        issued: datetime,
        performer: dict,
    ) -> Resource:
        code = flag(test, value)
        return {
            "resourceType": "Observation",
            "id": obs_id,
            "basedOn": [ref("ServiceRequest", sr_id)],
            "status": "final",
            "category": [concept(OBS_CATEGORY, "laboratory", "Laboratory")],
            "code": clinical.lab_code(test),
            "subject": ref("Patient", pid),
            "encounter": ref("Encounter", enc_id),
            "effectiveDateTime": local(v.when + timedelta(minutes=30)),
            "issued": local(issued),
            "performer": [performer],
            "valueQuantity": quantity(value, test.unit),
            "interpretation": [concept(INTERPRETATION, code, _INTERPRETATION[code])],
            "specimen": ref("Specimen", spec_id),
            "referenceRange": [reference_range(test)],
        }

    def _medication_request(
        self, pid: str, enc_id: str, suffix: str, i: int, key: str, v: Visit
    ) -> tuple[str, clinical.Medicine, int]:
        med = clinical.MEDICINES[key]
        supply_days = 30 if med.per_day and key in _LONG_TERM else 5
        amount = med.per_day * supply_days if med.per_day else 1
        req_id = self._id(f"medreq-{suffix}-{i}")
        chronic = key in _LONG_TERM
        self.resources.append(
            {
                "resourceType": "MedicationRequest",
                "id": req_id,
                "status": "active" if chronic else "completed",
                "intent": "order",
                "medicationCodeableConcept": {"text": med.name},
                "subject": ref("Patient", pid),
                "encounter": ref("Encounter", enc_id),
                "authoredOn": v.when.date().isoformat(),
                "requester": ref("Practitioner", v.doctor.practitioner_id),
                "dosageInstruction": [{"text": med.dosage}],
                "dispenseRequest": {
                    "quantity": {"value": amount, "unit": med.unit},
                    "expectedSupplyDuration": {
                        "value": supply_days,
                        "unit": "days",
                        "system": "http://unitsofmeasure.org",
                        "code": "d",
                    },
                },
            }
        )
        return req_id, med, amount

    def _dispense(
        self, pid: str, suffix: str, v: Visit, requests: list[tuple[str, clinical.Medicine, int]]
    ) -> None:
        jak = nearest_jak(v.site)
        jak_pid = self.patient_id(jak)
        handed = v.when + timedelta(hours=1)
        lines = []
        for i, (req_id, med, amount) in enumerate(requests, start=1):
            disp_id = f"meddisp-{suffix}-{i}"
            self.resources.append(
                {
                    "resourceType": "MedicationDispense",
                    "id": disp_id,
                    "status": "completed",
                    "medicationCodeableConcept": {"text": med.name},
                    "subject": ref("Patient", jak_pid),
                    "performer": [{"actor": ref("Practitioner", f"prac-{jak.slug}-pharmacist")}],
                    "location": ref("Location", jak.location_id, jak.name),
                    "authorizingPrescription": [ref("MedicationRequest", req_id)],
                    "quantity": {"value": amount, "unit": med.unit},
                    "whenHandedOver": local(handed),
                    "dosageInstruction": [{"text": med.dosage}],
                }
            )
            mrp = clinical.mrp(med)
            lines.append(
                billing.Line(
                    f"chg-{suffix}-med{i}",
                    f"MED-{med.key.upper()}",
                    med.name,
                    Decimal(amount),
                    med.unit_price,
                    clinical.GST_RATE_MEDICINES,
                    mrp,
                )
            )
        self._bill(jak_pid, None, jak, suffix + "-jak", ("01", "Pharmacy"), lines, handed)

    def _immunization(self, pid: str, enc_id: str, suffix: str, key: str, v: Visit) -> None:
        self.resources.append(
            {
                "resourceType": "Immunization",
                "id": f"imm-{suffix}",
                "status": "completed",
                "vaccineCode": clinical.vaccine(key),
                "patient": ref("Patient", pid),
                "encounter": ref("Encounter", enc_id),
                "occurrenceDateTime": local(v.when + timedelta(minutes=10)),
                "primarySource": True,
                "location": ref("Location", v.site.location_id),
                "lotNumber": f"{key[:3].upper()}{v.when:%y%m}{self.rng.randrange(100, 999)}",
                "route": concept(ROUTE, *_ROUTES.get(key, _ROUTES["default"])),
                "doseQuantity": quantity(0.5, "mL"),
                "performer": [{"actor": ref("Practitioner", v.doctor.practitioner_id)}],
            }
        )

    # --- billing -------------------------------------------------------------------------
    def _account(self, pid: str, site: Facility, start: datetime) -> str:
        if pid not in self._accounts:
            aid = f"acct-{pid.removeprefix('pat-')}"
            self._accounts[pid] = aid
            self.resources.append(
                billing.account(
                    aid, pid, site.org_id, f"{self.person.name.latin}, {site.name}", local(start)
                )
            )
        return self._accounts[pid]

    def _bill(
        self,
        pid: str,
        enc_id: str | None,
        site: Facility,
        suffix: str,
        kind: tuple[str, str],
        lines: list[billing.Line],
        when: datetime,
        enterer: str | None = None,
    ) -> None:
        aid = self._account(pid, site, when)
        self.resources += [
            billing.charge_item(ln, pid, enc_id, site.org_id, aid, local(when), enterer)
            for ln in lines
        ]
        self._invoices += 1
        number = f"{site.slug.upper()}/{when:%y%m}/{abs(hash_text(suffix)) % 100000:05d}"
        self.resources.append(
            billing.invoice(
                f"inv-{suffix}", number, kind, lines, pid, site.org_id, aid, local(when)
            )
        )

    def _hospital_bill(
        self,
        pid: str,
        enc_id: str,
        suffix: str,
        v: Visit,
        end: datetime,
        lab_lines: list[billing.Line],
        conditions: list[str],
    ) -> None:
        if v.kind == "IMP" and self.person.pmjay_id:
            lines = [
                billing.Line(
                    f"chg-{suffix}-ward",
                    "IPD-WARD",
                    "General ward bed-day (AB-PMJAY)",
                    Decimal(v.days),
                    BED_DAY,
                ),
                *lab_lines,
            ]
            self._bill(pid, enc_id, v.site, suffix, ("02", "IPD"), lines, end)
            cov_id = self._coverage_for(pid)
            claim = billing.claim(
                f"claim-{suffix}", pid, v.site.org_id, cov_id, enc_id, lines, conditions, local(end)
            )
            self.resources.append(claim)
            self.resources.append(
                billing.claim_response(f"clmresp-{suffix}", claim, local(end + timedelta(days=6)))
            )
            return
        fee = billing.Line(f"chg-{suffix}-opd", "OPD-REG", "OPD registration", Decimal(1), OPD_FEE)
        kind = ("03", "OPD") if v.kind == "AMB" else ("00", "Consultation")
        self._bill(
            pid, enc_id, v.site, suffix, kind, [fee, *lab_lines], v.when + timedelta(hours=1)
        )

    def _coverage_for(self, pid: str) -> str:
        if pid not in self._coverage:
            cid = f"cov-{pid.removeprefix('pat-')}-pmjay"
            self._coverage[pid] = cid
            assert self.person.pmjay_id is not None
            # Delhi joined AB-PMJAY in April 2025
            self.resources.append(billing.coverage(cid, pid, self.person.pmjay_id, "2025-04-01"))
        return self._coverage[pid]


_LONG_TERM = frozenset(
    {
        "metformin",
        "glimepiride",
        "amlodipine",
        "telmisartan",
        "atorvastatin",
        "ifa",
        "levothyroxine",
    }
)


def _test_key(test: LabTest) -> str:
    return {
        "718-7": "hb",
        "6690-2": "wbc",
        "777-3": "plt",
        "4548-4": "hba1c",
        "1558-6": "fbs",
        "2093-3": "chol",
        "2085-9": "hdl",
        "13457-7": "ldl",
        "2571-8": "tg",
        "3016-3": "tsh",
    }[test.loinc]


def _flag_of(observation: Resource) -> str:
    return observation["interpretation"][0]["coding"][0]["code"]


def hash_text(text: str) -> int:
    """A stable small hash (Python's hash() changes per process)."""
    value = 0
    for ch in text:
        value = (value * 131 + ord(ch)) % 1_000_003
    return value
