"""Release file readers: tiny synthetic files in the real formats (tests/terminology/data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_server.terminology.loaders.icd10 import read_icd10
from fhir_server.terminology.loaders.loinc import read_loinc
from fhir_server.terminology.loaders.snomed import read_snomed

DATA = Path(__file__).parent / "data"


def test_loinc_rows_become_concepts_with_names_and_axes() -> None:
    concepts = {c.code: c for c in read_loinc(DATA / "Loinc.csv")}
    assert set(concepts) == {"718-7", "2345-7", "1558-6", "99999-9"}
    hgb = concepts["718-7"]
    assert hgb.display == "Hemoglobin [Mass/volume] in Blood"
    assert ("en", "short", "Hgb Bld-mCnc") in hgb.designations
    assert ("CLASS", "HEM/BC") in hgb.properties and ("SYSTEM", "Bld") in hgb.properties
    assert {"hemoglobin", "blood", "hgb"} <= set(hgb.words)
    assert ("STATUS", "DEPRECATED") in concepts["99999-9"].properties


def test_loinc_file_without_its_columns_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "Loinc.csv"
    bad.write_text("code,name\n1,x\n")
    with pytest.raises(ValueError, match="LOINC_NUM"):
        list(read_loinc(bad))


def test_snomed_rf2_active_concepts_descriptions_and_is_a() -> None:
    concepts = {c.code: c for c in read_snomed(DATA / "rf2")}
    assert "11111111" not in concepts  # inactivated by its latest row
    diabetes = concepts["73211009"]
    assert diabetes.display == "Diabetes mellitus"  # FSN without the semantic tag
    assert diabetes.parents == ("64572001",)
    # only the active is-a: the inactive is-a and the finding-site attribute are ignored
    assert concepts["38341003"].parents == ("64572001",)
    assert concepts["44054006"].parents == ("73211009",)
    terms = [d[2] for d in concepts["38341003"].designations]
    assert "High blood pressure" in terms and "Retired synonym" not in terms
    assert "type" in concepts["44054006"].words


def test_icd10_parents_given_or_derived() -> None:
    concepts = {c.code: c for c in read_icd10(DATA / "icd10.tsv")}
    assert concepts["E10-E14"].parents == ("IV",)
    assert concepts["E11"].parents == ("E10-E14",)  # its block, from the code range
    assert concepts["E11.9"].parents == ("E11",)  # the code before the dot
    assert concepts["I10"].parents == ("I10-I15",)
    assert concepts["IV"].parents == ()
