"""Identifier systems of ABDM's Health Facility Registry (HFR).

The NDHM-era system and the ABDM one name the same HFR ids (as the two ABHA number systems
name the same health IDs); this server writes the first and reads both.
"""

HFR_SYSTEM = "https://facility.ndhm.gov.in"
HFR_SYSTEMS = (HFR_SYSTEM, "https://hfr.abdm.gov.in")
