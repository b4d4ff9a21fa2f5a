"""The record page in a real browser: headless Chromium against a seeded server process.

Each test opens /record, types an ABHA the way a clerk or a barcode scanner would, and
reads what the page shows. The page calls the server's real Patient/$everything.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytest.importorskip("selenium", reason="selenium is not installed (pip install -e '.[test]')")

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

SEED_ABHA = "22-7225-4829-5255"  # Asha Sharma: records at Lok Nayak and AAM Dwarka
RICH_ABHA = "44-1234-5678-9012"  # built below: every kind of entry, over two pages
PHONE = {"width": 375, "height": 812, "deviceScaleFactor": 2, "mobile": True}
DESKTOP = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
SETTLED = ("idle", "not-found", "error", "invalid")


# ---- helpers --------------------------------------------------------------------------
def open_page(driver: Any, origin: str, screen: dict[str, Any] = DESKTOP) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", screen)
    driver.get(f"{origin}/record")
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return document.body.dataset.ready === 'true'")
    )


def look_up(driver: Any, text: str, *, enter: bool = False) -> str:
    """Type text into the ABHA field, submit, wait until the page settles; its state."""
    # mark the status box so a state left over from the previous lookup is not mistaken
    # for this lookup's result
    driver.execute_script("document.getElementById('status').dataset.state = 'pending'")
    box = driver.find_element(By.ID, "abha")
    box.clear()
    box.send_keys(text)
    if enter:
        box.send_keys(Keys.ENTER)
    else:
        driver.find_element(By.ID, "show").click()
    return WebDriverWait(driver, 30).until(
        lambda d: (
            (state := d.find_element(By.ID, "status").get_attribute("data-state")) in SETTLED
            and state
        )
    )


def texts(driver: Any, css: str) -> list[str]:
    return [node.text for node in driver.find_elements(By.CSS_SELECTOR, css)]


def item(driver: Any, key: str) -> Any:
    return driver.find_element(By.CSS_SELECTOR, f'#timeline li[data-key="{key}"]')


def lab_result(driver: Any, name: str) -> Any:
    """A lab result on its own, or as a row of a report that holds it."""
    return driver.find_element(
        By.XPATH,
        f"//li[contains(@class, 'item')][.//h3[contains(., '{name}')]]"
        f" | //table[contains(@class, 'results')]//tr[th[contains(., '{name}')]]",
    )


def field(entry: Any, name: str) -> str:
    return entry.find_element(By.CSS_SELECTOR, f".field-{name} dd").text


def set_language(driver: Any, lang: str) -> None:
    if driver.execute_script("return document.documentElement.lang") != lang:
        driver.find_element(By.ID, "lang").click()


# ---- the seeded patient -------------------------------------------------------------------
def test_lookup_shows_the_patient_and_the_timeline_across_facilities(
    browser: Any, record_server: str
) -> None:
    # asserts what the seed promises (seed_bundles/), not its exact size, so richer seed
    # data does not break the test
    open_page(browser, record_server)
    set_language(browser, "en")
    assert look_up(browser, SEED_ABHA) == "idle"

    assert browser.find_element(By.CSS_SELECTOR, "#patient .name-devanagari").text == "आशा शर्मा"
    assert browser.find_element(By.CSS_SELECTOR, "#patient .name-latin").text == "Asha Sharma"
    facts = browser.find_element(By.CSS_SELECTOR, "#patient .facts").text
    assert "years" in facts and "Female" in facts
    assert SEED_ABHA in facts and "asha.sharma@abdm" in facts
    assert {"Ayushman Arogya Mandir, Dwarka Sector 10", "Lok Nayak Hospital"} <= set(
        texts(browser, "#patient .facility-chip")
    )

    hba1c = lab_result(browser, "HbA1c")
    assert "7.2 %" in hba1c.text
    assert hba1c.find_element(By.CSS_SELECTOR, ".flag.abnormal").text == "High (H)"

    medicine = item(browser, "MedicationRequest/medreq-aam-asha-1")
    assert medicine.find_element(By.CSS_SELECTOR, ".item-title").text == "Metformin 500 mg tablet"
    assert field(medicine, "dosage") == "1 tablet twice a day after meals"
    assert field(medicine, "quantity") == "60 tablet"
    assert "Meera Iyer" in field(medicine, "doctor")

    visit = item(browser, "Encounter/enc-aam-asha-1")
    # the time as the facility recorded it (IST), whatever the browser's zone
    assert (
        visit.find_element(By.CSS_SELECTOR, ".when").text == "5 Oct 2026, 10:00 am \u2013 10:20 am"
    )
    assert "Meera Iyer" in field(visit, "doctor")
    assert visit.find_element(By.CSS_SELECTOR, ".item-facility").text == (
        "Ayushman Arogya Mandir, Dwarka Sector 10"
    )
    shown = len(browser.find_elements(By.CSS_SELECTOR, "#timeline li.item"))
    assert browser.find_element(By.ID, "count").text == f"{shown} of {shown} entries"
    days = [
        (t.get_attribute("datetime") or "")[:10]
        for t in browser.find_elements(By.CSS_SELECTOR, ".when")
    ]
    assert days == sorted(days, reverse=True)  # newest first


def test_allergies_conditions_and_vaccinations_from_every_facility(
    browser: Any, record_server: str
) -> None:
    open_page(browser, record_server)
    set_language(browser, "en")
    assert look_up(browser, SEED_ABHA) == "idle"
    # the allergy recorded at four facilities is one warning in the header, marked severe
    assert texts(browser, "#patient .allergies .alert-chip") == ["Sulfonamide (substance) ⚠"]
    conditions = texts(browser, "#patient .activeConditions .alert-chip")
    assert "Type 2 diabetes mellitus without complications" in conditions
    assert "Hyperlipidaemia, unspecified" in conditions
    allergy = item(browser, "AllergyIntolerance/allergy-aam-asha-sulfonamide")
    assert allergy.find_element(By.CSS_SELECTOR, ".flag.abnormal").text == "Criticality (high)"
    assert field(allergy, "criticality") == "high"
    vaccine = item(browser, "Immunization/imm-aam-asha-3-1")
    assert vaccine.find_element(By.CSS_SELECTOR, ".item-title").text == "Hep B, adult"
    chips = texts(browser, "#chips .chip span:first-of-type")
    assert "Conditions & allergies" in chips and "Vaccinations" in chips
    set_language(browser, "hi")
    assert browser.find_element(By.CSS_SELECTOR, "#patient .allergies h3").text == "एलर्जी"
    set_language(browser, "en")


def test_enter_key_and_abha_address_find_the_same_record(browser: Any, record_server: str) -> None:
    # a barcode scanner types the text and sends Enter; addresses are case-insensitive
    open_page(browser, record_server)
    set_language(browser, "en")
    assert look_up(browser, "Asha.Sharma@ABDM", enter=True) == "idle"
    assert browser.find_element(By.CSS_SELECTOR, "#patient .name-latin").text == "Asha Sharma"
    by_address = browser.find_element(By.ID, "count").text
    assert look_up(browser, SEED_ABHA.replace("-", ""), enter=True) == "idle"
    assert browser.find_element(By.ID, "count").text == by_address


def test_hindi_labels_and_the_choice_is_remembered(browser: Any, record_server: str) -> None:
    open_page(browser, record_server)
    set_language(browser, "en")
    assert browser.find_element(By.ID, "show").text == "Show record"
    browser.find_element(By.ID, "lang").click()
    assert browser.find_element(By.ID, "show").text == "रिकॉर्ड देखें"
    assert browser.find_element(By.ID, "lang").text == "English"

    look_up(browser, SEED_ABHA)
    assert browser.find_element(By.CSS_SELECTOR, "#record h2").text == "समयरेखा"
    hba1c = lab_result(browser, "HbA1c")
    assert hba1c.find_element(By.CSS_SELECTOR, ".flag.abnormal").text == "अधिक (H)"
    assert "महिला" in browser.find_element(By.CSS_SELECTOR, "#patient .facts").text
    browser.save_screenshot("/tmp/record-hindi.png")

    browser.refresh()  # localStorage keeps the choice across visits
    WebDriverWait(browser, 20).until(
        lambda d: d.execute_script("return document.body.dataset.ready === 'true'")
    )
    assert browser.execute_script("return document.documentElement.lang") == "hi"
    assert browser.find_element(By.ID, "show").text == "रिकॉर्ड देखें"
    set_language(browser, "en")


def test_phone_width_has_no_horizontal_scroll(browser: Any, record_server: str) -> None:
    open_page(browser, record_server, PHONE)
    set_language(browser, "en")
    look_up(browser, SEED_ABHA)
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 375, f"the page is {width}px wide on a 375px screen"
    browser.save_screenshot("/tmp/record-phone.png")
    set_language(browser, "hi")  # Hindi labels are longer: still no overflow
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 375
    set_language(browser, "en")


# ---- the states that are not a record ----------------------------------------------------
def test_unknown_abha_says_no_patient_found(browser: Any, record_server: str) -> None:
    open_page(browser, record_server)
    set_language(browser, "en")
    assert look_up(browser, "11-1111-1111-1111") == "not-found"
    assert browser.find_element(By.ID, "status").text == "No patient found for this ABHA."
    assert not browser.find_element(By.ID, "patient").is_displayed()


@pytest.mark.parametrize("typed", ["12345", "22-7225-4829-525", "asha@gmail.com", "a b@abdm"])
def test_malformed_abha_is_refused_before_any_request(
    browser: Any, record_server: str, typed: str
) -> None:
    open_page(browser, record_server)
    set_language(browser, "en")
    browser.execute_script("performance.clearResourceTimings()")
    assert look_up(browser, typed) == "invalid"
    assert "14-digit ABHA number" in browser.find_element(By.ID, "status").text
    assert browser.find_element(By.ID, "abha").get_attribute("aria-invalid") == "true"
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert not [url for url in fetched if "/fhir/" in url]


def test_server_error_shows_the_operation_outcome(browser: Any, record_server: str) -> None:
    open_page(browser, record_server)
    set_language(browser, "en")
    # stand in for a failing server: only fetch is replaced, the page code is untouched
    browser.execute_script(
        """window.fetch = async () => new Response(JSON.stringify({
             resourceType: 'OperationOutcome',
             issue: [{severity: 'error', code: 'exception',
                      diagnostics: 'database is locked <b>retry</b>'}]}),
           {status: 503, headers: {'Content-Type': 'application/fhir+json'}});"""
    )
    assert look_up(browser, SEED_ABHA) == "error"
    status = browser.find_element(By.ID, "status")
    assert "Could not load the record. (HTTP 503)" in status.text
    assert status.find_element(By.CSS_SELECTOR, ".diagnostics li").text == (
        "database is locked <b>retry</b>"
    )
    assert status.find_elements(By.TAG_NAME, "b") == []

    browser.execute_script("window.fetch = () => Promise.reject(new TypeError('offline'))")
    assert look_up(browser, SEED_ABHA) == "error"
    assert "server could not be reached" in browser.find_element(By.ID, "status").text


# ---- a record with every kind of entry, over two pages ---------------------------------------
@pytest.fixture(scope="module")
def rich_record(record_server: str) -> None:
    response = httpx.post(
        f"{record_server}/fhir",
        json=_rich_transaction(),
        headers={"Content-Type": "application/fhir+json"},
        timeout=60,
    )
    assert response.status_code == 200, response.text


def test_every_kind_of_entry_newest_first_escaped_and_paged(
    browser: Any, record_server: str, rich_record: None
) -> None:
    open_page(browser, record_server)
    set_language(browser, "en")
    assert look_up(browser, RICH_ABHA) == "idle"

    # 140 compartment resources: more than one page of 100, so `next` was followed
    assert browser.find_element(By.ID, "count").text == "136 of 136 entries"

    # hostile text is shown as text, never run or parsed as markup
    assert "<img" in browser.find_element(By.CSS_SELECTOR, "#patient .name-latin").text
    assert (
        browser.find_elements(By.CSS_SELECTOR, "#patient img, #timeline img, script:not([src])")
        == []
    )
    assert browser.execute_script("return window.__pwned") is None
    assert texts(browser, "#patient .facility-chip") == [HOSTILE_ORG]

    keys = [
        n.get_attribute("data-key") for n in browser.find_elements(By.CSS_SELECTOR, "#timeline li")
    ]
    assert keys[0] == "Appointment/appt-web-1"
    assert keys.index("DiagnosticReport/dr-web-1") < keys.index("Encounter/enc-web-1")
    assert keys.index("MedicationDispense/md-web-1") < keys.index("DiagnosticReport/dr-web-1")
    # the report's Observations are shown inside it, not again on their own
    assert "Observation/obs-web-hb" not in keys

    report = item(browser, "DiagnosticReport/dr-web-1")
    rows = report.find_elements(By.CSS_SELECTOR, "table.results tbody tr")
    assert [r.find_element(By.TAG_NAME, "th").text for r in rows] == ["Haemoglobin", "WBC count"]
    assert rows[0].find_element(By.CSS_SELECTOR, ".flag.abnormal").text == "Low (L)"
    assert rows[0].find_element(By.CSS_SELECTOR, ".range").text == "12 g/dL \u2013 15.5 g/dL"
    assert rows[1].find_elements(By.CSS_SELECTOR, ".flag.abnormal") == []
    assert report.find_element(By.CSS_SELECTOR, ".item-title .flag.abnormal").text == "Low (L)"

    appointment = item(browser, "Appointment/appt-web-1")
    assert "Diabetes follow-up" in appointment.text and field(appointment, "status") == "booked"
    assert field(item(browser, "Claim/claim-web-1"), "total") == "₹1,500.00"
    assert field(item(browser, "Invoice/inv-web-1"), "total") == "₹250.00"
    dispense = item(browser, "MedicationDispense/md-web-1")
    assert "Ferrous sulphate 200 mg tablet" in dispense.text
    assert field(dispense, "quantity") == "30 tablet"
    visit = item(browser, "Encounter/enc-web-1")
    assert field(visit, "doctor") == "Dr. Sunita Rao"
    assert field(visit, "kindOfVisit") == "inpatient encounter"
    browser.save_screenshot("/tmp/record-desktop.png")


def test_filters_by_type_and_date(browser: Any, record_server: str, rich_record: None) -> None:
    open_page(browser, record_server)
    set_language(browser, "en")
    look_up(browser, RICH_ABHA)
    browser.find_element(By.CSS_SELECTOR, ".chip.group-labs input").click()
    assert browser.find_element(By.ID, "count").text == "5 of 136 entries"
    assert browser.find_elements(By.CSS_SELECTOR, "#timeline li.group-labs") == []

    browser.find_element(By.CSS_SELECTOR, ".chip.group-labs input").click()
    browser.execute_script(
        """for (const [id, day] of [['from', '2025-01-11'], ['to', '2025-01-12']]) {
             const input = document.getElementById(id);
             input.value = day;
             input.dispatchEvent(new Event('change'));
           }"""
    )
    keys = {
        n.get_attribute("data-key") for n in browser.find_elements(By.CSS_SELECTOR, "#timeline li")
    }
    assert keys == {
        "DiagnosticReport/dr-web-1",
        "Claim/claim-web-1",
        "Invoice/inv-web-1",
        "MedicationDispense/md-web-1",
    }
    browser.find_element(By.ID, "clear").click()
    assert browser.find_element(By.ID, "count").text == "136 of 136 entries"


HOSTILE_ORG = "PHC Narela <script>window.__pwned = 1</script>"


def _rich_transaction() -> dict[str, Any]:
    patient = {"reference": "Patient/pat-web-kiran"}
    org = {"reference": "Organization/org-web-phc"}
    doctor = {"reference": "Practitioner/prac-web-sunita"}
    inr = "INR"
    resources: list[dict[str, Any]] = [
        {"resourceType": "Organization", "id": "org-web-phc", "name": HOSTILE_ORG},
        {
            "resourceType": "Practitioner",
            "id": "prac-web-sunita",
            "name": [{"text": "Dr. Sunita Rao"}],
        },
        {
            "resourceType": "Medication",
            "id": "med-web-iron",
            "code": {"text": "Ferrous sulphate 200 mg tablet"},
        },
        {
            "resourceType": "Patient",
            "id": "pat-web-kiran",
            "identifier": [{"system": "https://healthid.ndhm.gov.in", "value": RICH_ABHA}],
            "name": [
                {"use": "official", "text": 'Kiran <img src=x onerror="window.__pwned=1">'},
                {"use": "usual", "text": "किरण राव"},
            ],
            "gender": "female",
            "birthDate": "1990-02-14",
            "managingOrganization": org,
        },
        {
            "resourceType": "Encounter",
            "id": "enc-web-1",
            "status": "finished",
            "class": {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "IMP",
                "display": "inpatient encounter",
            },
            "subject": patient,
            "participant": [{"individual": doctor}],
            "period": {"start": "2025-01-10T09:00:00+05:30", "end": "2025-01-12T11:00:00+05:30"},
            "serviceProvider": org,
        },
        _observation("obs-web-hb", "Haemoglobin", 9.1, "g/dL", "L", low=12, high=15.5),
        _observation("obs-web-wbc", "WBC count", 7.0, "10*3/uL", "N", low=4, high=11),
        {
            "resourceType": "DiagnosticReport",
            "id": "dr-web-1",
            "status": "final",
            "code": {"text": "Complete blood count"},
            "subject": patient,
            "effectiveDateTime": "2025-01-11T08:00:00+05:30",
            "performer": [org],
            "result": [
                {"reference": "Observation/obs-web-hb"},
                {"reference": "Observation/obs-web-wbc"},
            ],
            "conclusion": "Mild anaemia",
        },
        {
            "resourceType": "Appointment",
            "id": "appt-web-1",
            "status": "booked",
            "serviceType": [{"text": "Diabetes follow-up"}],
            "start": "2025-03-01T10:00:00+05:30",
            "end": "2025-03-01T10:15:00+05:30",
            "participant": [
                {"actor": patient, "status": "accepted"},
                {"actor": doctor, "status": "accepted"},
            ],
        },
        {
            "resourceType": "Coverage",
            "id": "cov-web-1",
            "status": "active",
            "beneficiary": patient,
            "payor": [{"display": "PM-JAY"}],
        },
        {
            "resourceType": "Claim",
            "id": "claim-web-1",
            "status": "active",
            "type": {"text": "Institutional"},
            "use": "claim",
            "patient": patient,
            "created": "2025-01-12",
            "provider": org,
            "priority": {"text": "normal"},
            "insurance": [
                {"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/cov-web-1"}}
            ],
            "total": {"value": 1500, "currency": inr},
        },
        {
            "resourceType": "Invoice",
            "id": "inv-web-1",
            "status": "issued",
            "subject": patient,
            "date": "2025-01-12",
            "issuer": org,
            "totalGross": {"value": 250, "currency": inr},
        },
        {
            "resourceType": "MedicationDispense",
            "id": "md-web-1",
            "status": "completed",
            "medicationReference": {"reference": "Medication/med-web-iron"},
            "subject": patient,
            "quantity": {"value": 30, "unit": "tablet"},
            "whenHandedOver": "2025-01-12T12:00:00+05:30",
            "dosageInstruction": [{"text": "1 tablet daily after food"}],
        },
    ]
    # a year of weight readings: enough to need a second page of $everything
    resources += [
        {
            "resourceType": "Observation",
            "id": f"obs-web-weight-{n}",
            "status": "final",
            "code": {"text": "Body weight"},
            "subject": patient,
            "effectiveDateTime": f"2024-{1 + n // 28:02d}-{1 + n % 28:02d}",
            "valueQuantity": {"value": 60 + n / 10, "unit": "kg"},
        }
        for n in range(130)
    ]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
            }
            for r in resources
        ],
    }


def _observation(
    id_: str, name: str, value: float, unit: str, flag: str, *, low: float, high: float
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": id_,
        "status": "final",
        "code": {"text": name},
        "subject": {"reference": "Patient/pat-web-kiran"},
        "effectiveDateTime": "2025-01-11T08:00:00+05:30",
        "valueQuantity": {"value": value, "unit": unit},
        "interpretation": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                        "code": flag,
                    }
                ]
            }
        ],
        "referenceRange": [
            {"low": {"value": low, "unit": unit}, "high": {"value": high, "unit": unit}}
        ],
    }
