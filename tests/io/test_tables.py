"""Reading files: encoding, emptiness, delimiters, line numbers, gzip, manifests."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from ithkit import InputError, io

HEADER = (
    "mutation_id\tsample_id\tref_counts\talt_counts\tmajor_cn\tminor_cn\tnormal_cn\ttumour_content"
)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def test_reads_tsv(tmp_path: Path) -> None:
    p = write(tmp_path, "v.tsv", f"{HEADER}\nm1\tR1\t90\t10\t1\t1\t2\t0.8\n")
    frame = io.read_variants(p)
    assert frame.loc[0, "alt_counts"] == 10


def test_empty_file(tmp_path: Path) -> None:
    p = write(tmp_path, "v.tsv", "")
    with pytest.raises(InputError, match=r"v.tsv: file is empty"):
        io.read_variants(p)


def test_whitespace_only_file(tmp_path: Path) -> None:
    p = write(tmp_path, "v.tsv", "\n \n")
    with pytest.raises(InputError, match="file is empty"):
        io.read_variants(p)


def test_header_only(tmp_path: Path) -> None:
    p = write(tmp_path, "v.tsv", HEADER + "\n")
    with pytest.raises(InputError, match="header but no rows"):
        io.read_variants(p)


def test_non_utf8_names_the_line(tmp_path: Path) -> None:
    body = f"{HEADER}\nm1\tR1\t90\t10\t1\t1\t2\t0.8\nm2\tR\xe9gion\t90\t10\t1\t1\t2\t0.8\n"
    p = write(tmp_path, "v.tsv", body.encode("latin-1"))
    with pytest.raises(
        InputError, match=r"line 3: not UTF-8 text \(byte 0xe9\); save the file as UTF-8"
    ):
        io.read_variants(p)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        io.read_variants(tmp_path / "nope.tsv")


def test_blank_lines_keep_file_line_numbers(tmp_path: Path) -> None:
    body = f"{HEADER}\nm1\tR1\t90\t10\t1\t1\t2\t0.8\n\nm2\tR1\t90\t-1\t1\t1\t2\t0.8\n"
    p = write(tmp_path, "v.tsv", body)
    with pytest.raises(InputError, match=r"line 4, column alt_counts"):
        io.read_variants(p)


def test_ragged_row(tmp_path: Path) -> None:
    p = write(tmp_path, "v.tsv", f"{HEADER}\nm1\tR1\t90\t10\t1\t1\t2\t0.8\textra\tmore\n")
    with pytest.raises(InputError, match="cannot parse the table"):
        io.read_variants(p)


def test_gzip_and_bom(tmp_path: Path) -> None:
    text = "\ufeff" + f"{HEADER}\nm1\tR1\t90\t10\t1\t1\t2\t0.8\n"
    p = write(tmp_path, "v.tsv.gz", gzip.compress(text.encode("utf-8")))
    assert io.read_variants(p).loc[0, "mutation_id"] == "m1"


def test_csv_sniffed(tmp_path: Path) -> None:
    p = write(tmp_path, "v.data", HEADER.replace("\t", ",") + "\nm1,R1,90,10,1,1,2,0.8\n")
    assert io.read_variants(p).loc[0, "ref_counts"] == 90


def test_write_table_round_trip(tmp_path: Path, small_patient) -> None:  # type: ignore[no-untyped-def]
    out = io.write_table(small_patient.lesions, tmp_path / "lesions.csv")
    back = io.read_lesions(out)
    assert back["diameter_mm"].tolist() == small_patient.lesions["diameter_mm"].tolist()
    assert back["is_lymph_node"].tolist() == small_patient.lesions["is_lymph_node"].tolist()


def test_manifest_resolves_paths(tmp_path: Path, small_patient) -> None:  # type: ignore[no-untyped-def]
    files = small_patient.to_files(tmp_path)
    manifest = io.read_patient_manifest(files["manifest"])
    assert manifest["variants"] == files["variants"].resolve()
    (tmp_path / "variants.tsv").unlink()
    with pytest.raises(InputError, match=r"variants file 'variants.tsv' not found"):
        io.read_patient_manifest(files["manifest"])


def test_manifest_bad_yaml(tmp_path: Path) -> None:
    p = write(tmp_path, "patient.yaml", "patient_id: P1\nvariants: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML"):
        io.read_patient_manifest(p)


def test_image_manifest_checks_files(tmp_path: Path) -> None:
    (tmp_path / "ct.nii.gz").write_bytes(b"x")
    p = write(
        tmp_path,
        "images.csv",
        "patient_id,lesion_id,timepoint,image,mask,label\nP1,L1,0,ct.nii.gz,seg.nii.gz,1\n",
    )
    with pytest.raises(InputError, match=r"line 2, column mask: mask file 'seg.nii.gz' not found"):
        io.read_image_manifest(p)
    (tmp_path / "seg.nii.gz").write_bytes(b"x")
    frame = io.read_image_manifest(p)
    assert Path(frame.loc[0, "image"]).is_absolute()
