"""Privacy: the report names the patient by the manifest's pseudonymous ``patient_id`` only.

Identifying manifest attributes (names, birth dates, record numbers...) appear only with
``--show-identifiers``; identifiers that carry HTML (a sample, a lesion) are escaped all the way
from the input files to the report.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from ithkit.report.sections import is_identifying

EVIL_SAMPLE = "<script>alert('R1')</script>"
EVIL_LESION = "<script>alert('L1')</script>"
NAME = "Jane Q. Doe"
BIRTH = "1953-04-17"
MRN = "MRN-99812734"


@pytest.fixture(scope="module")
def patient(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small virtual patient whose files carry HTML in ids and identifying attributes."""
    from ithkit.evolution import virtual_patient

    folder = tmp_path_factory.mktemp("privacy")
    vp = virtual_patient(seed=2, n_regions=2, n_mutations=40, n_clones=3, patient_id="P-007")
    files = vp.to_files(folder)
    variants = pd.read_csv(files["variants"], sep="\t")
    first = str(variants["sample_id"].iloc[0])
    variants["sample_id"] = variants["sample_id"].replace(first, EVIL_SAMPLE)
    variants.to_csv(files["variants"], sep="\t", index=False)
    manifest = yaml.safe_load(Path(files["manifest"]).read_text())
    for key in ("purity", "segments", "ctdna", "scenario"):  # the two tables the test needs
        manifest.pop(key, None)
    lesions_path = Path(files["manifest"]).parent / manifest["lesions"]
    lesions = pd.read_csv(lesions_path)
    lesions["lesion_id"] = lesions["lesion_id"].replace(lesions["lesion_id"].iloc[0], EVIL_LESION)
    lesions.to_csv(lesions_path, index=False)
    manifest["attributes"] = {
        "patient_name": NAME,
        "Date of birth": BIRTH,
        "mrn": MRN,
        "stage": "IV",
        "age_at_diagnosis": 61,
    }
    Path(files["manifest"]).write_text(yaml.safe_dump(manifest))
    return Path(files["manifest"])


def _report(manifest: Path, out: Path, *, show: bool, analyses: tuple[str, ...]) -> str:
    from ithkit.integrate import run_patient

    run = run_patient(manifest, out, analyses=list(analyses), show_identifiers=show)
    return run.report.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def hidden(patient: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return _report(
        patient, tmp_path_factory.mktemp("hidden"), show=False, analyses=("genomic", "response")
    )


def test_identifying_attributes_stay_out_of_the_report(hidden: str) -> None:
    assert "P-007" in hidden
    for secret in (NAME, BIRTH, MRN, "patient_name", "Date of birth"):
        assert secret not in hidden
    assert "IV" in hidden and ">61<" in hidden  # other attributes are shown
    assert "3 identifying attribute(s) of the manifest not shown" in hidden


def test_ids_with_html_are_escaped_from_file_to_report(hidden: str) -> None:
    assert "<script" not in hidden
    page = hidden.replace("&#x27;", "'").replace("&#39;", "'")
    assert "&lt;script&gt;alert('R1')&lt;/script&gt;" in page  # tables, headings, SVG text
    assert "&lt;script&gt;alert('L1')&lt;/script&gt;" in page


def test_show_identifiers_shows_them_escaped(patient: Path, tmp_path: Path) -> None:
    page = _report(patient, tmp_path, show=True, analyses=("response",))
    assert NAME in page and BIRTH in page and MRN in page
    assert "<script" not in page


@pytest.mark.parametrize("command", ["run", "demo"])
def test_command_line_has_the_option(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    from ithkit.cli import main

    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "--show-identifiers" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("key", "identifying"),
    [("PatientName", True), ("patient_name", True), ("DOB", True), ("date_of_birth", True),
     ("BirthDate", True), ("mrn", True), ("home_address", True), ("phone", True),
     ("SSN", True), ("e-mail", True), ("email", True), ("age", False), ("stage", False),
     ("histology", False), ("sex", False)],
)  # fmt: skip
def test_identifying_keys(key: str, identifying: bool) -> None:
    assert is_identifying(key) is identifying
