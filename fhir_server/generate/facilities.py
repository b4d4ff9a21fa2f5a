"""The network's facilities and staff: Organizations, Locations, HealthcareServices,
Practitioners, PractitionerRoles, Schedules and free Slots.

Slots cover a fixed window, SLOT_DAYS days from SLOT_START (Monday to Saturday, Sundays
and 25 December closed), rather than "the next four weeks from today": seed files must
be the same bytes whenever they are written, and loading them twice must change nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from fhir_server.generate import clinical, names
from fhir_server.generate.fhir import (
    HFR,
    HPR,
    SNOMED,
    V3_ROLE,
    Resource,
    coding,
    concept,
    delhi_address,
    ref,
)
from fhir_server.generate.places import AAMS, CARE_FACILITIES, HOSPITALS, JAKS, NHA, Facility

SLOT_START = date(2026, 12, 1)
SLOT_DAYS = 28
CLOSED = frozenset({date(2026, 12, 25)})  # Christmas, a gazetted holiday in Delhi
ORG_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
PRACTITIONER_ROLE = "http://terminology.hl7.org/CodeSystem/practitioner-role"
# a code per HIMS service, so clients can find "the lab of this facility" by token
HIMS_SERVICE = "urn:fhir-server:hims-service"
SERVICES: dict[str, tuple[str, str | None, str | None]] = {
    # key: (display, SNOMED code, SNOMED display)
    "opd": ("OPD consultation", "11429006", "Consultation"),
    "lab": ("Lab test and sample collection", "15220000", "Laboratory test"),
    "ambulance": ("Ambulance (CATS 102)", None, None),
    "pharmacy": ("Jan Aushadhi pharmacy", None, None),
}


@dataclass(frozen=True)
class Staff:
    practitioner_id: str
    role_id: str
    org: Facility
    specialty: tuple[str, str]
    name: names.PersonName
    gender: str
    hpr: str
    service: str  # the HealthcareService key the role works in

    @property
    def is_doctor(self) -> bool:
        return self.specialty is not clinical.PHARMACY

    @property
    def books_slots(self) -> bool:
        # pathologists report; patients book the lab's sample-collection schedule instead
        return self.specialty not in (clinical.PHARMACY, clinical.PATHOLOGY)


# The first sample's two doctors keep their ids (pages and tests name them)
_FIXED_STAFF = {
    ("org-aam-dwarka", "mo"): ("prac-meera", ("Meera", "मीरा"), ("Iyer", "अय्यर"), "female",
                               "71-2345-6789-0123"),
    ("org-gtbh", "medicine"): ("prac-rohit", ("Rohit", "रोहित"), ("Verma", "वर्मा"), "male",
                               "71-9876-5432-1098"),
}  # fmt: skip
_ROLE_SUFFIX = {
    clinical.GENERAL_MEDICINE: "medicine",
    clinical.PAEDIATRICS: "paediatrics",
    clinical.GYNAECOLOGY: "gynae",
    clinical.PATHOLOGY: "pathology",
    clinical.GENERAL_PRACTICE: "mo",
    clinical.PHARMACY: "pharmacist",
}


def staff() -> list[Staff]:
    """Four specialists per hospital, a medical officer per AAM, a pharmacist per JAK."""
    rng = random.Random("delhi-network-staff")  # a str seed is stable across processes
    plan: list[tuple[Facility, tuple[str, str], str]] = []
    for hospital in HOSPITALS:
        for spec in clinical.HOSPITAL_SPECIALTIES:
            plan.append((hospital, spec, "lab" if spec is clinical.PATHOLOGY else "opd"))
    plan += [(aam, clinical.GENERAL_PRACTICE, "opd") for aam in AAMS]
    plan += [(jak, clinical.PHARMACY, "pharmacy") for jak in JAKS]
    out = []
    taken = {"Meera Iyer", "Rohit Verma"}
    for org, spec, service in plan:
        suffix = _ROLE_SUFFIX[spec]
        gender = "female" if spec is clinical.GYNAECOLOGY or rng.random() < 0.45 else "male"
        person = names.draw(rng, gender)
        # doctors were born before these names caught on; and no two share a name
        while person.given in names.YOUNG or person.latin in taken:
            person = names.draw(rng, gender)
        taken.add(person.latin)
        hpr = "71-" + "-".join(f"{rng.randrange(10_000):04d}" for _ in range(3))
        prac_id = f"prac-{org.slug}-{suffix}"
        fixed = _FIXED_STAFF.get((org.org_id, suffix))
        if fixed:
            prac_id, given, family, gender, hpr = fixed
            person = names.make(given, family)
        role_id = f"role-{org.slug}-{suffix}"
        out.append(Staff(prac_id, role_id, org, spec, person, gender, hpr, service))
    return out


def organization(site: Facility) -> Resource:
    types = [concept(ORG_TYPE, "prov", "Healthcare Provider")]
    if site.kind == "jak":
        types[0]["coding"].append(coding(SNOMED, "264372000", "Pharmacy"))
    elif site.kind == "hospital":
        types[0]["coding"].append(coding(SNOMED, "22232009", "Hospital"))
    elif site.kind == "aam":
        types[0]["text"] = "Ayushman Arogya Mandir (primary health care centre)"
    elif site.kind == "payer":
        types = [concept(ORG_TYPE, "pay", "Payer")]
    org: Resource = {"resourceType": "Organization", "id": site.org_id}
    if site.hfr:
        org["identifier"] = [{"system": HFR, "value": site.hfr}]
    org |= {
        "active": True,
        "type": types,
        "name": site.name,
        "alias": [site.name_hi],
        "telecom": [{"system": "phone", "value": site.phone, "use": "work"}],
        "address": [delhi_address(site.line, site.district, site.pin, "work")],
    }
    if site.kind == "payer":
        org["telecom"] = [{"system": "url", "value": "https://nha.gov.in"}]
    return org


_LOCATION_TYPE = {
    "hospital": ("HOSP", "Hospital"),
    "aam": ("PC", "primary care clinic"),
    "jak": ("PHARM", "Pharmacy"),
}


def location(site: Facility) -> Resource:
    code, display = _LOCATION_TYPE[site.kind]
    return {
        "resourceType": "Location",
        "id": site.location_id,
        "identifier": [{"system": HFR, "value": site.hfr}],
        "status": "active",
        "name": site.name,
        "alias": [site.name_hi],
        "mode": "instance",
        "type": [concept(V3_ROLE, code, display)],
        "telecom": [{"system": "phone", "value": site.phone, "use": "work"}],
        "address": delhi_address(site.line, site.district, site.pin, "work"),
        "managingOrganization": ref("Organization", site.org_id, site.name),
    }


def services_of(site: Facility) -> list[str]:
    return {"hospital": ["opd", "lab", "ambulance"], "aam": ["opd", "lab"], "jak": ["pharmacy"]}[
        site.kind
    ]


def service_id(site: Facility, key: str) -> str:
    return f"hs-{site.slug}-{key}"


def healthcare_service(site: Facility, key: str) -> Resource:
    display, snomed, snomed_display = SERVICES[key]
    service_type: dict = {"coding": [coding(HIMS_SERVICE, key, display)], "text": display}
    if snomed and snomed_display:
        service_type["coding"].append(coding(SNOMED, snomed, snomed_display))
    hours = {
        "opd": ("09:00:00", "14:00:00"),
        "lab": ("08:00:00", "13:00:00"),
        "pharmacy": ("08:00:00", "20:00:00"),
    }
    resource: Resource = {
        "resourceType": "HealthcareService",
        "id": service_id(site, key),
        "active": True,
        "providedBy": ref("Organization", site.org_id, site.name),
        "type": [service_type],
        "location": [ref("Location", site.location_id)],
        "name": f"{display}, {site.name}",
        "telecom": [{"system": "phone", "value": site.phone, "use": "work"}],
    }
    if key == "ambulance":
        resource["telecom"] = [{"system": "phone", "value": "102", "use": "work"}]
        resource["availableTime"] = [{"allDay": True}]
    else:
        start, end = hours[key]
        days = ["mon", "tue", "wed", "thu", "fri", "sat"]
        if key == "pharmacy":
            days.append("sun")
        resource["availableTime"] = [
            {"daysOfWeek": days, "availableStartTime": start, "availableEndTime": end}
        ]
    return resource


def practitioner(member: Staff) -> Resource:
    prefix = "Dr." if member.is_doctor else None
    qualification = "MBBS" if member.is_doctor else "B.Pharm"
    return {
        "resourceType": "Practitioner",
        "id": member.practitioner_id,
        "identifier": [{"system": HPR, "value": member.hpr}],
        "active": True,
        "name": member.name.fhir(prefix),
        "gender": member.gender,
        "qualification": [{"code": {"text": qualification}}],
    }


def practitioner_role(member: Staff) -> Resource:
    role = "doctor" if member.is_doctor else "pharmacist"
    return {
        "resourceType": "PractitionerRole",
        "id": member.role_id,
        "active": True,
        "practitioner": ref("Practitioner", member.practitioner_id, member.name.latin),
        "organization": ref("Organization", member.org.org_id, member.org.name),
        "code": [concept(PRACTITIONER_ROLE, role, role.capitalize())],
        "specialty": [clinical.specialty(member.specialty)],
        "location": [ref("Location", member.org.location_id)],
        "healthcareService": [ref("HealthcareService", service_id(member.org, member.service))],
    }


@dataclass(frozen=True)
class Bookable:
    """A Schedule: a doctor's OPD, or a hospital lab's sample collection."""

    schedule_id: str
    actors: tuple[dict, ...]
    service: str
    specialty: tuple[str, str] | None
    first: tuple[int, int]  # first slot (hour, minute)
    minutes: int
    count: int  # slots a day
    label: str


def bookables(members: list[Staff]) -> list[Bookable]:
    out = [
        Bookable(
            f"sched-{m.role_id.removeprefix('role-')}",
            (ref("PractitionerRole", m.role_id), ref("Location", m.org.location_id)),
            "opd",
            m.specialty,
            (9, 0),
            20,
            3,
            f"OPD, {m.name.latin}, {m.org.name}",
        )
        for m in members
        if m.books_slots
    ]
    out += [
        Bookable(
            f"sched-{h.slug}-lab",
            (ref("HealthcareService", service_id(h, "lab")), ref("Location", h.location_id)),
            "lab",
            None,
            (8, 0),
            30,
            3,
            f"Sample collection, {h.name}",
        )
        for h in HOSPITALS
    ]
    return out


def _service_type(key: str) -> list[dict]:
    display = SERVICES[key][0]
    return [{"coding": [coding(HIMS_SERVICE, key, display)], "text": display}]


def schedule(item: Bookable) -> Resource:
    end = SLOT_START + timedelta(days=SLOT_DAYS - 1)
    resource: Resource = {
        "resourceType": "Schedule",
        "id": item.schedule_id,
        "active": True,
        "serviceType": _service_type(item.service),
        "actor": list(item.actors),
        "planningHorizon": {
            "start": f"{SLOT_START.isoformat()}T00:00:00+05:30",
            "end": f"{end.isoformat()}T23:59:59+05:30",
        },
        "comment": item.label,
    }
    if item.specialty:
        resource["specialty"] = [clinical.specialty(item.specialty)]
    return resource


def open_days() -> list[date]:
    days = [SLOT_START + timedelta(days=i) for i in range(SLOT_DAYS)]
    return [d for d in days if d.weekday() != 6 and d not in CLOSED]


def slot_id(schedule_id: str, start: datetime) -> str:
    return f"slot-{schedule_id.removeprefix('sched-')}-{start:%Y%m%d-%H%M}"


def slots(item: Bookable, days: list[date]) -> list[Resource]:
    out = []
    for day in days:
        first = datetime(day.year, day.month, day.day, *item.first)
        for n in range(item.count):
            start = first + timedelta(minutes=n * item.minutes)
            end = start + timedelta(minutes=item.minutes)
            out.append(
                {
                    "resourceType": "Slot",
                    "id": slot_id(item.schedule_id, start),
                    "schedule": ref("Schedule", item.schedule_id),
                    "status": "free",
                    "start": f"{start:%Y-%m-%dT%H:%M:%S}+05:30",
                    "end": f"{end:%Y-%m-%dT%H:%M:%S}+05:30",
                }
            )
    return out


def facility_resources() -> list[Resource]:
    """Organizations (with the NHA as payer), Locations and HealthcareServices."""
    out = [organization(site) for site in (*CARE_FACILITIES, NHA)]
    out += [location(site) for site in CARE_FACILITIES]
    out += [healthcare_service(site, key) for site in CARE_FACILITIES for key in services_of(site)]
    return out


def staff_resources(members: list[Staff]) -> list[Resource]:
    return [practitioner(m) for m in members] + [practitioner_role(m) for m in members]


def schedule_resources(members: list[Staff]) -> list[Resource]:
    items = bookables(members)
    days = open_days()
    return [schedule(i) for i in items] + [s for i in items for s in slots(i, days)]
