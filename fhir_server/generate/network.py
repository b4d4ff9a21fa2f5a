"""Assembling the network into files: the seed (`seed_bundles/`) and larger generated
networks (`fhir-server generate`), which are the seed plus N random people.

Seed files, loaded in name order by `fhir-server seed`:
  01-organizations.json  Organizations (52 facilities and the NHA), Locations, HealthcareServices
  02-practitioners.json  Practitioners and PractitionerRoles
  03-schedules.json      Schedules and Slots (fixed window from 2026-12-01)
  04-patients.json       Patients, AllergyIntolerances, Accounts, Coverages
  05-history.json        Encounters and everything that happened in them, Appointments
Generated networks add 10-people-0001.json, ... (500 people a file: each file holds
those people's Patients and history, so it loads on its own after the seed files).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from fhir_server.generate import clinical, facilities, names, output, stories
from fhir_server.generate.facilities import Staff
from fhir_server.generate.fhir import Resource, ref
from fhir_server.generate.places import AAMS, HOSPITALS, Facility, facility
from fhir_server.generate.records import Person, RecordBuilder, Visit, local

PEOPLE_PER_FILE = 500
_PATIENT_LEVEL = frozenset({"Patient", "AllergyIntolerance", "Account", "Coverage"})
HISTORY_START = date(2025, 1, 1)
HISTORY_END = date(2026, 11, 28)  # the day before "now" in this data set


def staff_index(members: list[Staff]) -> dict[tuple[str, str], Staff]:
    return {(m.org.org_id, m.role_id.removeprefix(f"role-{m.org.slug}-")): m for m in members}


def _appointment(booking: stories.Booking, patient_id: str) -> Resource:
    end = booking.start + timedelta(minutes=booking.minutes)
    slot = facilities.slot_id(booking.schedule_id, booking.start)
    participants = [
        {"actor": ref("Patient", patient_id), "required": "required", "status": "accepted"}
    ]
    if booking.role_id:
        participants.append(
            {
                "actor": ref("PractitionerRole", booking.role_id),
                "required": "required",
                "status": "accepted",
            }
        )
    site_slug = booking.org_id.removeprefix("org-")
    participants.append(
        {"actor": ref("Location", f"loc-{site_slug}"), "required": "required", "status": "accepted"}
    )
    service = "opd" if booking.role_id else "lab"
    return {
        "resourceType": "Appointment",
        "id": f"appt-{patient_id.removeprefix('pat-')}-{booking.start:%Y%m%d%H%M}",
        "status": "booked",
        "serviceType": [{"text": facilities.SERVICES[service][0]}],
        "start": local(booking.start),
        "end": local(end),
        "slot": [ref("Slot", slot)],
        "created": "2026-11-27T16:05:00+05:30",
        "participant": participants,
    }


def seed_records(members: list[Staff]) -> tuple[list[Resource], set[str]]:
    """The hand-written people's resources, and the ids of the Slots they booked."""
    doc = staff_index(members)
    plans = stories.visits(doc)
    out: list[Resource] = []
    busy: set[str] = set()
    rng = random.Random("delhi-network-stories")
    for person in stories.PEOPLE:
        builder = RecordBuilder(person, rng)
        for v in plans[person.key]:
            builder.visit(v)
        for booking in stories.BOOKINGS:
            if booking.person == person.key:
                pid = builder.patient_id(facility(booking.org_id))
                builder.resources.append(_appointment(booking, pid))
                busy.add(facilities.slot_id(booking.schedule_id, booking.start))
        out += builder.resources
    return out, busy


def base_resources() -> tuple[list[Resource], list[Resource], list[Resource], list[Staff]]:
    members = facilities.staff()
    return (
        facilities.facility_resources(),
        facilities.staff_resources(members),
        facilities.schedule_resources(members),
        members,
    )


def seed_files() -> dict[str, bytes]:
    orgs, staff, schedules, members = base_resources()
    records, busy = seed_records(members)
    for slot in schedules:
        if slot["id"] in busy:
            slot["status"] = "busy"
    return {
        "01-organizations.json": output.transaction_bytes(orgs),
        "02-practitioners.json": output.transaction_bytes(staff),
        "03-schedules.json": output.transaction_bytes(schedules),
        "04-patients.json": output.transaction_bytes(
            [r for r in records if r["resourceType"] in _PATIENT_LEVEL]
        ),
        "05-history.json": output.transaction_bytes(
            [r for r in records if r["resourceType"] not in _PATIENT_LEVEL]
        ),
    }


# --- random people ------------------------------------------------------------------------
_HOSPITAL_OF_DISTRICT = {h.district: h for h in HOSPITALS}


def _hospital_for(home: Facility) -> Facility:
    return _HOSPITAL_OF_DISTRICT.get(home.district) or HOSPITALS[int(home.pin) % len(HOSPITALS)]


def _when(rng: random.Random) -> datetime:
    span = (HISTORY_END - HISTORY_START).days
    while True:
        day = HISTORY_START + timedelta(days=rng.randrange(span + 1))
        if day.weekday() != 6:
            break
    return datetime(day.year, day.month, day.day, rng.randrange(9, 13), rng.choice((0, 15, 30, 45)))


def random_person(rng: random.Random, n: int, used: set[str]) -> tuple[Person, Facility]:
    gender = rng.choice(("female", "male"))
    name = names.draw(rng, gender)
    born = date(rng.randrange(1945, 2024), rng.randrange(1, 13), rng.randrange(1, 29))
    while True:
        digits = f"{rng.randrange(10, 100)}{rng.randrange(10**12):012d}"
        if digits not in used:
            used.add(digits)
            break
    number = f"{digits[:2]}-{digits[2:6]}-{digits[6:10]}-{digits[10:]}"
    handle = f"{name.given.lower()}.{name.family.lower()}{n % 1000:03d}@abdm"
    home = rng.choice(AAMS)
    locality = home.name.split(", ", 1)[1]
    person = Person(
        key=f"g{n:06d}",
        name=name,
        gender=gender,
        birth_date=born.isoformat(),
        abha_number=number,
        abha_address=handle,
        phone=f"+91-9{rng.randrange(10**4):04d}-{rng.randrange(10**5):05d}",
        home=(f"House {rng.randrange(1, 400)}, {locality}", home.district, home.pin),
        allergies=(rng.choice(tuple(clinical.ALLERGENS)),) if rng.random() < 0.08 else (),
        pmjay_id=(
            "P" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8))
            if rng.random() < 0.4
            else None
        ),
    )
    return person, home


def random_visits(
    rng: random.Random, person: Person, home: Facility, doc: dict[tuple[str, str], Staff]
) -> list[Visit]:
    """Chronic care at the home AAM, a hospital visit now and then, acute episodes."""
    age = 2026 - int(person.birth_date[:4])
    hospital = _hospital_for(home)
    pathologist = doc[(hospital.org_id, "pathology")]
    out: list[Visit] = []
    if age <= 3:
        out.append(
            Visit(
                home,
                doc[(home.org_id, "mo")],
                _when(rng),
                vaccines=("hepb-birth", "bcg") if rng.random() < 0.5 else ("mr",),
            )
        )
    chronic = [
        c
        for c, p in (
            ("E11.9", 0.25),
            ("I10", 0.3),
            ("E78.5", 0.15),
            ("E03.9", 0.08),
            ("J45.9", 0.05),
        )
        if age >= 35 and rng.random() < p
    ]
    for code in chronic:
        meds, labs = clinical.TREATMENT[code]
        for _ in range(rng.randrange(1, 3)):
            out.append(
                Visit(
                    home,
                    doc[(home.org_id, "mo")],
                    _when(rng),
                    diagnoses=(code,),
                    medicines=meds,
                    labs=labs,
                )
            )
        if rng.random() < 0.5:
            out.append(
                Visit(
                    hospital,
                    doc[(hospital.org_id, "medicine")],
                    _when(rng),
                    diagnoses=(code,),
                    medicines=meds,
                    labs=labs,
                    pathologist=pathologist,
                )
            )
    for _ in range(rng.randrange(0, 3)):
        code = rng.choice(("J06.9", "A09", "A90", "D50.9", "M54.5", "J18.9", "Z00.0"))
        meds, labs = clinical.TREATMENT[code]
        if age < 12 and "paracetamol" in meds:
            meds = tuple("paracetamol-syrup" if m == "paracetamol" else m for m in meds)
        if code == "J18.9" and person.pmjay_id:
            role = "paediatrics" if age < 12 else "medicine"
            out.append(
                Visit(
                    hospital,
                    doc[(hospital.org_id, role)],
                    _when(rng),
                    kind="IMP",
                    days=rng.randrange(3, 7),
                    diagnoses=(code,),
                    medicines=meds,
                    labs=labs,
                    pathologist=pathologist,
                )
            )
        elif code in ("A90", "A09") and rng.random() < 0.4:
            out.append(
                Visit(
                    hospital,
                    doc[(hospital.org_id, "medicine")],
                    _when(rng),
                    kind="EMER",
                    diagnoses=(code,),
                    medicines=meds,
                    labs=labs,
                    pathologist=pathologist,
                )
            )
        else:
            out.append(
                Visit(
                    home,
                    doc[(home.org_id, "mo")],
                    _when(rng),
                    diagnoses=(code,),
                    medicines=meds,
                    labs=labs,
                )
            )
    if not out:  # everyone has been seen at least once
        out.append(
            Visit(
                home,
                doc[(home.org_id, "mo")],
                _when(rng),
                diagnoses=("Z00.0",),
                labs=("cbc", "fbs"),
            )
        )
    return out


def generated_files(people: int, seed: int) -> dict[str, bytes]:
    """The seed files plus `people` random people, PEOPLE_PER_FILE to a file."""
    files = seed_files()
    members = facilities.staff()
    doc = staff_index(members)
    rng = random.Random(seed)
    used = {p.abha_number.replace("-", "") for p in stories.PEOPLE}
    batch: list[Resource] = []
    number = 0
    for n in range(1, people + 1):
        person, home = random_person(rng, n, used)
        builder = RecordBuilder(person, rng)
        for v in random_visits(rng, person, home, doc):
            builder.visit(v)
        batch += builder.resources
        if n % PEOPLE_PER_FILE == 0 or n == people:
            number += 1
            files[f"10-people-{number:04d}.json"] = output.transaction_bytes(batch)
            batch = []
    return files
