"""Delhi's districts and the facilities of the sample network.

Names, localities and PIN codes are real places in Delhi; HFR ids, phone numbers and
everything else about the facilities are invented (HFR-style: IN + state 07 + 8 digits).
The first hospital, AAM and Jan Aushadhi Kendra keep the ids of the first sample
(org-lnh, org-gtbh, org-aam-dwarka, org-jak-laxmi), which tests and pages rely on.
"""

from __future__ import annotations

from dataclasses import dataclass

DISTRICTS: tuple[str, ...] = (
    "Central Delhi",
    "East Delhi",
    "New Delhi",
    "North Delhi",
    "North East Delhi",
    "North West Delhi",
    "Shahdara",
    "South Delhi",
    "South East Delhi",
    "South West Delhi",
    "West Delhi",
)


@dataclass(frozen=True)
class Facility:
    org_id: str  # Organization id; the Location is "loc-" + the part after "org-"
    kind: str  # hospital | aam | jak | payer
    name: str
    name_hi: str
    line: str
    district: str
    pin: str
    hfr: str

    @property
    def slug(self) -> str:
        return self.org_id.removeprefix("org-")

    @property
    def location_id(self) -> str:
        return f"loc-{self.slug}"

    @property
    def phone(self) -> str:
        # synthetic: 011 (Delhi) + 4 + the HFR serial, never a real facility's number
        return f"+91-11-4{self.hfr[-7:]}"


def _hospital(
    slug: str, name: str, hi: str, line: str, district: str, pin: str, n: int
) -> Facility:
    return Facility(f"org-{slug}", "hospital", name, hi, line, district, pin, f"IN07100000{n:02d}")


HOSPITALS: tuple[Facility, ...] = (
    _hospital("lnh", "Lok Nayak Hospital", "लोक नायक अस्पताल",
              "Jawaharlal Nehru Marg, Delhi Gate", "Central Delhi", "110002", 1),
    _hospital("gtbh", "Guru Teg Bahadur Hospital", "गुरु तेग बहादुर अस्पताल",
              "Dilshad Garden", "Shahdara", "110095", 2),
    _hospital("dduh", "Deen Dayal Upadhyay Hospital", "दीन दयाल उपाध्याय अस्पताल",
              "Hari Nagar", "West Delhi", "110064", 3),
    _hospital("aaagh", "Aruna Asaf Ali Government Hospital", "अरुणा आसफ़ अली राजकीय अस्पताल",
              "5, Rajpur Road, Civil Lines", "North Delhi", "110054", 4),
    _hospital("sgmh", "Sanjay Gandhi Memorial Hospital", "संजय गांधी स्मारक अस्पताल",
              "S Block, Mangolpuri", "North West Delhi", "110083", 5),
    _hospital("lbsh", "Lal Bahadur Shastri Hospital", "लाल बहादुर शास्त्री अस्पताल",
              "Khichripur, Mayur Vihar Phase II", "East Delhi", "110091", 6),
    _hospital("bsah", "Dr. Baba Saheb Ambedkar Hospital", "डॉ. बाबा साहेब आंबेडकर अस्पताल",
              "Sector 6, Rohini", "North West Delhi", "110085", 7),
    _hospital("mmmh", "Pt. Madan Mohan Malaviya Hospital", "पं. मदन मोहन मालवीय अस्पताल",
              "Malviya Nagar", "South Delhi", "110017", 8),
    _hospital("igh", "Indira Gandhi Hospital", "इंदिरा गांधी अस्पताल",
              "Sector 9, Dwarka", "South West Delhi", "110077", 9),
    _hospital("jpch", "Jag Pravesh Chandra Hospital", "जग प्रवेश चंद्र अस्पताल",
              "Shastri Park", "North East Delhi", "110053", 10),
)  # fmt: skip

# (slug, locality, locality in Devanagari, district, PIN): 34 Ayushman Arogya Mandirs
_AAM_PLACES: tuple[tuple[str, str, str, str, str], ...] = (
    ("daryaganj", "Daryaganj", "दरियागंज", "Central Delhi", "110002"),
    ("karolbagh", "Karol Bagh", "करोल बाग", "Central Delhi", "110005"),
    ("paharganj", "Paharganj", "पहाड़गंज", "Central Delhi", "110055"),
    ("mayurvihar1", "Mayur Vihar Phase 1", "मयूर विहार फेज़ 1", "East Delhi", "110091"),
    ("kalyanpuri", "Kalyanpuri", "कल्याणपुरी", "East Delhi", "110091"),
    ("shakarpur", "Shakarpur", "शकरपुर", "East Delhi", "110092"),
    ("sarojininagar", "Sarojini Nagar", "सरोजिनी नगर", "New Delhi", "110023"),
    ("golemarket", "Gole Market", "गोल मार्केट", "New Delhi", "110001"),
    ("rkpuram", "R.K. Puram Sector 7", "आर.के. पुरम सेक्टर 7", "New Delhi", "110022"),
    ("burari", "Burari", "बुराड़ी", "North Delhi", "110084"),
    ("timarpur", "Timarpur", "तिमारपुर", "North Delhi", "110054"),
    ("modeltown", "Model Town", "मॉडल टाउन", "North Delhi", "110009"),
    ("seelampur", "Seelampur", "सीलमपुर", "North East Delhi", "110053"),
    ("bhajanpura", "Bhajanpura", "भजनपुरा", "North East Delhi", "110053"),
    ("karawalnagar", "Karawal Nagar", "करावल नगर", "North East Delhi", "110094"),
    ("mustafabad", "Mustafabad", "मुस्तफ़ाबाद", "North East Delhi", "110094"),
    ("rohini16", "Rohini Sector 16", "रोहिणी सेक्टर 16", "North West Delhi", "110089"),
    ("jahangirpuri", "Jahangirpuri", "जहांगीरपुरी", "North West Delhi", "110033"),
    ("shalimarbagh", "Shalimar Bagh", "शालीमार बाग", "North West Delhi", "110088"),
    ("vivekvihar", "Vivek Vihar", "विवेक विहार", "Shahdara", "110095"),
    ("seemapuri", "Seemapuri", "सीमापुरी", "Shahdara", "110095"),
    ("geetacolony", "Geeta Colony", "गीता कॉलोनी", "Shahdara", "110031"),
    ("sangamvihar", "Sangam Vihar", "संगम विहार", "South Delhi", "110080"),
    ("mehrauli", "Mehrauli", "महरौली", "South Delhi", "110030"),
    ("khanpur", "Khanpur", "खानपुर", "South Delhi", "110062"),
    ("jamianagar", "Jamia Nagar", "जामिया नगर", "South East Delhi", "110025"),
    ("badarpur", "Badarpur", "बदरपुर", "South East Delhi", "110044"),
    ("saritavihar", "Sarita Vihar", "सरिता विहार", "South East Delhi", "110076"),
    ("dwarka", "Dwarka Sector 10", "द्वारका सेक्टर 10", "South West Delhi", "110075"),
    ("najafgarh", "Najafgarh", "नजफ़गढ़", "South West Delhi", "110043"),
    ("palam", "Palam", "पालम", "South West Delhi", "110045"),
    ("tilaknagar", "Tilak Nagar", "तिलक नगर", "West Delhi", "110018"),
    ("janakpuri", "Janakpuri", "जनकपुरी", "West Delhi", "110058"),
    ("nangloi", "Nangloi", "नांगलोई", "West Delhi", "110041"),
)


def _aam_serials() -> dict[str, int]:
    # Dwarka keeps IN0710000101 from the first sample; the others follow in table order
    others = [slug for slug, *_ in _AAM_PLACES if slug != "dwarka"]
    return {"dwarka": 101} | {slug: 102 + i for i, slug in enumerate(others)}


_SERIALS = _aam_serials()
AAMS: tuple[Facility, ...] = tuple(
    Facility(
        f"org-aam-{slug}",
        "aam",
        f"Ayushman Arogya Mandir, {place}",
        f"आयुष्मान आरोग्य मंदिर, {place_hi}",
        f"Ayushman Arogya Mandir, {place}",
        district,
        pin,
        f"IN0710000{_SERIALS[slug]:03d}",
    )
    for slug, place, place_hi, district, pin in _AAM_PLACES
)

# (slug, where, where in Devanagari, street line, district, PIN): 8 Jan Aushadhi Kendras
_JAK_PLACES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("laxmi", "Laxmi Nagar", "लक्ष्मी नगर", "Vikas Marg, Laxmi Nagar", "East Delhi", "110092"),
    ("lnh", "Lok Nayak Hospital", "लोक नायक अस्पताल", "OPD Block, Lok Nayak Hospital",
     "Central Delhi", "110002"),
    ("gtbh", "GTB Hospital", "जीटीबी अस्पताल", "Gate 2, GTB Hospital, Dilshad Garden",
     "Shahdara", "110095"),
    ("dduh", "DDU Hospital", "डीडीयू अस्पताल", "Main Gate, DDU Hospital, Hari Nagar",
     "West Delhi", "110064"),
    ("rohini", "Rohini Sector 7", "रोहिणी सेक्टर 7", "Sector 7 Market, Rohini",
     "North West Delhi", "110085"),
    ("malviya", "Malviya Nagar", "मालवीय नगर", "Shivalik Road, Malviya Nagar",
     "South Delhi", "110017"),
    ("lajpat", "Lajpat Nagar", "लाजपत नगर", "Central Market, Lajpat Nagar II",
     "South East Delhi", "110024"),
    ("dwarka", "Dwarka Sector 6", "द्वारका सेक्टर 6", "Sector 6 Market, Dwarka",
     "South West Delhi", "110075"),
)  # fmt: skip

JAKS: tuple[Facility, ...] = tuple(
    Facility(
        f"org-jak-{slug}",
        "jak",
        f"Pradhan Mantri Bhartiya Janaushadhi Kendra, {where}",
        f"प्रधानमंत्री भारतीय जनऔषधि केंद्र, {where_hi}",
        line,
        district,
        pin,
        f"IN0710000{201 + i:03d}",
    )
    for i, (slug, where, where_hi, line, district, pin) in enumerate(_JAK_PLACES)
)

# The payer of AB-PMJAY claims; not a care facility, so it has no HFR id or Location
NHA = Facility(
    "org-nha",
    "payer",
    "National Health Authority",
    "राष्ट्रीय स्वास्थ्य प्राधिकरण",
    "3rd Floor, Tower-L, Jeevan Bharati Building, Connaught Place",
    "New Delhi",
    "110001",
    "",
)

CARE_FACILITIES: tuple[Facility, ...] = HOSPITALS + AAMS + JAKS
BY_ID: dict[str, Facility] = {f.org_id: f for f in (*CARE_FACILITIES, NHA)}


def facility(org_id: str) -> Facility:
    return BY_ID[org_id]


def nearest_jak(site: Facility) -> Facility:
    """The Jan Aushadhi Kendra a patient of this facility would walk to: same district first."""
    same = [j for j in JAKS if j.district == site.district]
    if same:
        return same[0]
    return JAKS[int(site.pin) % len(JAKS)]
