"""Each case of issue 15 through the command line: exit 2 with one line naming the fix, or a
correct read. (The inputs parse; without these checks each gave a confident wrong answer.)"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ._util import lesions_csv, one_error_line, run_cli

VARIANT_HEADER = "mutation_id\tsample_id\tref_counts\talt_counts\tmajor_cn\tminor_cn\tnormal_cn"
VARIANT_HEADER += "\ttumour_content"


# -- lesion diameters in cm ------------------------------------------------------------------
CM = [(3.2, 2.5, 1.8), (4.1, 3.3, 2.9)]  # +63 % sum: progression when read as cm


def test_lesions_in_cm_refused_with_the_fix(tmp_path: Path, capsys) -> None:
    f = lesions_csv(tmp_path / "les.csv", CM)
    code, _, err = run_cli(["response", "recist", f, "--out", tmp_path / "o"], capsys)
    line = one_error_line(err)
    assert code == 2
    assert "are these cm?" in line and "multiply by 10" in line and "--units cm" in line
    assert "diameter_mm" in line and str(f) in line
    assert not (tmp_path / "o").exists()


def test_lesions_units_cm_reads_them_and_records_it(tmp_path: Path, capsys) -> None:
    f = lesions_csv(tmp_path / "les.csv", CM)
    out = tmp_path / "o"
    code, stdout, _ = run_cli(["response", "recist", f, "--out", out, "--units", "cm"], capsys)
    assert code == 0
    # 75 mm -> 103 mm sum: +37 %, and +28 mm: PD (RECIST 1.1: >= 20 % and >= 5 mm)
    assert "P1\tPD" in stdout
    tp = pd.read_csv(out / "timepoints.tsv", sep="\t")
    assert tp["sum_diameters_mm"].tolist()[:2] == pytest.approx([75.0, 103.0])
    assert json.loads((out / "options.json").read_text())["units"] == "cm"


def test_lesions_force_keeps_mm_and_records_it(tmp_path: Path, capsys) -> None:
    f = lesions_csv(tmp_path / "les.csv", CM)
    out = tmp_path / "o"
    code, _, _ = run_cli(["response", "recist", f, "--out", out, "--force"], capsys)
    assert code == 0
    assert json.loads((out / "options.json").read_text())["force"] is True


def test_lesion_dates_out_of_order(tmp_path: Path, capsys) -> None:
    f = lesions_csv(tmp_path / "les.csv", [(32.0, 25.0), (30.0, 20.0)])
    text = f.read_text().replace("2024-02-12", "2023-12-01")
    f.write_text(text)
    code, _, err = run_cli(["response", "recist", f, "--out", tmp_path / "o"], capsys)
    assert code == 2 and "dates out of order" in one_error_line(err)


# -- delimiter and decimal comma --------------------------------------------------------------
def test_semicolon_csv_with_decimal_commas_is_read(tmp_path: Path, capsys) -> None:
    f = lesions_csv(tmp_path / "les.csv", [(32.5, 25.0), (22.5, 17.5)], sep=";")
    assert "32,5" in f.read_text()
    out = tmp_path / "o"
    code, stdout, _ = run_cli(["response", "recist", f, "--out", out], capsys)
    assert code == 0 and "P1\tPR" in stdout  # 57.5 -> 40 mm: -30.4 %
    tp = pd.read_csv(out / "timepoints.tsv", sep="\t")
    assert tp["sum_diameters_mm"].tolist()[:2] == pytest.approx([57.5, 40.0])


def test_decimal_comma_in_a_comma_csv_is_named(tmp_path: Path, capsys) -> None:
    f = lesions_csv(tmp_path / "les.csv", [(32.0, 25.0), (22.0, 17.0)])
    f.write_text(f.read_text().replace(",32.0\n", ',"32,5"\n'))
    code, _, err = run_cli(["response", "recist", f, "--out", tmp_path / "o"], capsys)
    line = one_error_line(err)
    assert code == 2 and "decimal comma" in line and "'32,5'" in line


def test_several_wrong_columns_reported_together(tmp_path: Path, capsys) -> None:
    f = tmp_path / "v.tsv"
    rows = [VARIANT_HEADER, "m1\tR1\tx\t-3\t1\t1\t2\t0.8", "m2\tR1\t90\t10\t0\t1\t2\t80"]
    f.write_text("\n".join(rows) + "\n")
    code, _, err = run_cli(["genomic", "analyze", f, "--out", tmp_path / "o"], capsys)
    line = one_error_line(err)
    assert code == 2
    for column in ("ref_counts", "alt_counts", "major_cn", "tumour_content"):
        assert f"column {column}" in line, line
    assert "4 problems" in line
    assert "look like percentages: divide by 100" in line  # tumour_content 80


def test_purity_in_percent_names_the_fix(tmp_path: Path, capsys) -> None:
    f = tmp_path / "v.tsv"
    f.write_text(VARIANT_HEADER + "\nm1\tR1\t90\t10\t1\t1\t2\t65\n")
    code, _, err = run_cli(["genomic", "analyze", f, "--out", tmp_path / "o"], capsys)
    assert code == 2 and "divide by 100" in one_error_line(err)


def test_negative_seed_is_a_usage_error(tmp_path: Path, capsys) -> None:
    f = tmp_path / "v.tsv"
    f.write_text(VARIANT_HEADER + "\nm1\tR1\t90\t10\t1\t1\t2\t0.6\n")
    code, _, err = run_cli(["genomic", "analyze", f, "--out", tmp_path / "o", "--seed", "-1"],
                           capsys)  # fmt: skip
    line = one_error_line(err)
    assert code == 2 and "--seed is -1" in line and "integer >= 0" in line


# -- image and mask swapped -------------------------------------------------------------------
@pytest.fixture(scope="module")
def ct_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("SimpleITK")
    from ithkit.imaging import synthetic_ct, write_volume

    d = tmp_path_factory.mktemp("ct")
    les = synthetic_ct(shape=(12, 16, 16), radius_mm=5.0, seed=3)
    write_volume(les.image, d / "ct.nii.gz")
    write_volume(les.mask, d / "mask.nii.gz")
    return d


def test_image_and_mask_swapped(ct_files: Path, tmp_path: Path, capsys) -> None:
    args = ["imaging", "features", ct_files / "mask.nii.gz", ct_files / "ct.nii.gz",
            "--out", tmp_path / "f.tsv"]  # fmt: skip
    code, _, err = run_cli(args, capsys)
    line = one_error_line(err)
    assert code == 2 and "not a mask" in line and "swap image and mask" in line
    assert "ct.nii.gz" in line


def test_voxel_maps_refused_up_front_with_estimate(
    ct_files: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ITHKIT_MEMORY_LIMIT_BYTES", str(200_000))  # a 200 kB machine
    args = ["imaging", "map", ct_files / "ct.nii.gz", ct_files / "mask.nii.gz",
            "--out", tmp_path / "maps"]  # fmt: skip
    code, _, err = run_cli(args, capsys)
    line = one_error_line(err)
    assert code == 2 and "GB of memory" in line and "--features" in line
    assert not (tmp_path / "maps").exists()


# -- cohort load ------------------------------------------------------------------------------
def test_cohort_load_of_a_run_folder_is_refused(script_run, tmp_path: Path, capsys) -> None:
    store = tmp_path / "s.duckdb"
    code, _, err = run_cli(["cohort", "load", script_run[0], "--store", store], capsys)
    line = one_error_line(err)
    assert code == 2 and "holds no ithkit results" in line


def test_cohort_export_then_load_round_trip(script_run, tmp_path: Path, capsys) -> None:
    from ithkit.store import CohortStore

    src = script_run[0] / "ithkit.duckdb"
    code, _, _ = run_cli(["cohort", "export", "--store", src, "--out", tmp_path / "x"], capsys)
    assert code == 0
    store = tmp_path / "copy.duckdb"
    code, stdout, _ = run_cli(["cohort", "load", tmp_path / "x", "--store", store], capsys)
    assert code == 0 and "loaded 1 patient(s)" in stdout
    import duckdb

    assert CohortStore(src, read_only=True).tables() == CohortStore(store, read_only=True).tables()
    counts = []
    for path in (src, store):
        with duckdb.connect(str(path), read_only=True) as con:
            names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables")
                     .fetchall()]  # fmt: skip
            counts.append({n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]
                           for n in names})  # fmt: skip
    assert counts[0] == counts[1] and counts[0]["genomic_clones"] > 0


# -- manifests --------------------------------------------------------------------------------
def test_manifest_key_misspelt(tmp_path: Path, capsys) -> None:
    lesions_csv(tmp_path / "les.csv", [(32.0, 25.0)])
    m = tmp_path / "p.yaml"
    m.write_text("patient_id: P1\nlesion: les.csv\n")
    code, _, err = run_cli(["run", m, "--out", tmp_path / "o"], capsys)
    line = one_error_line(err)
    assert code == 2 and "unknown key 'lesion'" in line and "did you mean 'lesions'" in line


def test_h5ad_without_cell_type_key_is_not_skipped_silently(tmp_path: Path, capsys) -> None:
    ad = pytest.importorskip("anndata")
    rng = np.random.default_rng(0)
    obs = pd.DataFrame({"leiden": ["0", "1"] * 20}, index=[f"c{i}" for i in range(40)])
    var = pd.DataFrame(index=[f"G{i}" for i in range(30)])
    ad.AnnData(X=rng.poisson(2.0, (40, 30)).astype(np.float32), obs=obs, var=var).write_h5ad(
        tmp_path / "sc.h5ad"
    )
    m = tmp_path / "p.yaml"
    m.write_text("patient_id: P1\nsinglecell: sc.h5ad\n")
    code, _, err = run_cli(["run", m, "--out", tmp_path / "o"], capsys)
    line = one_error_line(err)
    assert code == 2 and "no reference cells" in line and "leiden" in line


def test_manifest_path_outside_its_folder_is_recorded(tmp_path: Path) -> None:
    from ithkit.io import read_patient_manifest

    lesions_csv(tmp_path / "les.csv", [(32.0, 25.0)])
    (tmp_path / "m").mkdir()
    m = tmp_path / "m" / "p.yaml"
    m.write_text("patient_id: P1\nlesions: ../les.csv\n")
    attrs = read_patient_manifest(m)["attributes"]
    assert attrs["paths_outside_manifest_folder"] == f"lesions={tmp_path / 'les.csv'}"
    m2 = tmp_path / "p.yaml"
    m2.write_text("patient_id: P1\nlesions: les.csv\n")
    assert "attributes" not in read_patient_manifest(m2)


# -- gzip bomb --------------------------------------------------------------------------------
def test_gzip_bomb_refused(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "les.csv.gz"
    body = b"patient_id,lesion_id\n" + b"P1,L1\n" * 400_000  # 2.4 MB -> a few kB
    f.write_bytes(gzip.compress(body))
    monkeypatch.setenv("ITHKIT_MAX_DECOMPRESSED_BYTES", str(1_000_000))
    code, _, err = run_cli(["response", "recist", f, "--out", tmp_path / "o"], capsys)
    line = one_error_line(err)
    assert code == 2 and "decompresses to more than 1,000,000 bytes" in line
    assert "ITHKIT_MAX_DECOMPRESSED_BYTES" in line
