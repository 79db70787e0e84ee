"""Every reader, fed generated and mutated files, returns a valid result or raises InputError;
never another exception (hypothesis; profile ``ci`` in the suite, ``long`` in benchmarks/)."""

from __future__ import annotations

import gzip
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ithkit import io
from ithkit._errors import InputError

#: examples run per reader (read by benchmarks/robustness.py for docs/reliability.md)
EXAMPLES: Counter[str] = Counter()
DATA = Path(__file__).resolve().parents[1] / "pathology" / "data"

NASTY = st.sampled_from(
    ["", " ", "nan", "NA", "inf", "-inf", "-1", "0", "1e309", "0,5", "80", "3.2", "1.5e-320",
     "9" * 30, "true", "x", "\u00b5m", "\x00", '"', "'", "\t", ";", "2024-13-45", "1/2/2024",
     "<script>", "../../etc/passwd", "P1", "target", "-0", "1_000"]
)  # fmt: skip
CELL = st.one_of(NASTY, st.text(max_size=12))


@st.composite
def mutated(draw: st.DrawFn, seed_text: str) -> tuple[str, bool]:
    """A seed table mutated by up to 3 edits: cells, columns, delimiter, truncation, bytes."""
    lines = seed_text.splitlines()
    sep = "\t" if "\t" in lines[0] else ","
    rows = [line.split(sep) for line in lines]
    gz = False
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(
            ["cell", "cell", "cell", "drop_col", "rename", "delim", "truncate", "dup_row",
             "add_col", "blank_lines", "gzip", "swap_cols"]
        ))  # fmt: skip
        if op == "cell" and len(rows) > 1:
            r = draw(st.integers(1, len(rows) - 1))
            c = draw(st.integers(0, max(0, len(rows[r]) - 1)))
            if rows[r]:
                rows[r][c] = draw(CELL)
        elif op == "drop_col" and len(rows[0]) > 1:
            c = draw(st.integers(0, len(rows[0]) - 1))
            rows = [row[:c] + row[c + 1 :] for row in rows]
        elif op == "rename" and rows[0]:
            c = draw(st.integers(0, len(rows[0]) - 1))
            rows[0][c] = draw(st.sampled_from(
                [rows[0][c].upper(), rows[0][c][:-1], rows[0][c] + " ", "", rows[0][c] + "x"]
            ))  # fmt: skip
        elif op == "delim":
            sep = draw(st.sampled_from([",", ";", "\t", " ", "|"]))
        elif op == "truncate":
            keep = draw(st.integers(0, len(rows)))
            rows = rows[:keep] or [[]]
        elif op == "dup_row" and len(rows) > 1:
            rows.append(list(rows[draw(st.integers(1, len(rows) - 1))]))
        elif op == "add_col":
            rows = [[*row, draw(CELL)] for row in rows]
        elif op == "blank_lines":
            rows.insert(draw(st.integers(0, len(rows))), [])
        elif op == "gzip":
            gz = True
        elif op == "swap_cols" and len(rows[0]) > 1:
            a, b = draw(st.permutations(range(len(rows[0])))).__getitem__(slice(0, 2))
            for row in rows:
                if len(row) > max(a, b):
                    row[a], row[b] = row[b], row[a]
    return "\n".join(sep.join(row) for row in rows) + "\n", gz


def check_reader(name: str, reader: Callable[[Path], Any], path: Path, content: bytes) -> None:
    """``reader(path)`` returns or raises InputError; any warning must be ithkit's own."""
    path.write_bytes(content)
    EXAMPLES[name] += 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = reader(path)
        except InputError as exc:
            text = str(exc)
            assert "\n" not in text and text.strip(), repr(text)
            return
    foreign = [w for w in caught if not w.category.__module__.startswith("ithkit")]
    assert not foreign, [str(w.message) for w in foreign]
    if isinstance(result, pd.DataFrame):
        assert len(result) > 0


def _write_seed(tmp: Path, name: str, text: str, gz: bool) -> tuple[Path, bytes]:
    suffix = {"variants": ".tsv", "segments": ".tsv", "purity": ".tsv", "maf": ".maf",
              "detections": ".tsv"}.get(name, ".csv")  # fmt: skip
    data = text.encode("utf-8", "surrogatepass")
    path = tmp / f"{name}{suffix}"
    if gz:
        return path.with_name(path.name + ".gz"), gzip.compress(data)
    return path, data


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from ithkit.evolution import virtual_patient

    tmp = tmp_path_factory.mktemp("seeds")
    files = virtual_patient(seed=2, n_regions=2, n_mutations=8, n_clones=2).to_files(tmp)
    out = {k: Path(files[k]).read_text() for k in
           ("variants", "segments", "purity", "lesions", "ctdna")}  # fmt: skip
    out["maf"] = (
        "#version 2.4\nHugo_Symbol\tChromosome\tStart_Position\tReference_Allele\t"
        "Tumor_Seq_Allele2\tTumor_Sample_Barcode\tt_ref_count\tt_alt_count\n"
        "TP53\t17\t7578406\tC\tT\tS1\t60\t40\nKRAS\t12\t25398284\tC\tA\tS1\t80\t20\n"
    )
    out["images"] = (
        "patient_id,lesion_id,timepoint,image,mask,label\nP1,L1,0,ct.nii.gz,m.nii.gz,1\n"
    )
    out["detections"] = (DATA / "qupath_v05.tsv").read_text()
    out["tu"] = "USUBJID,TULNKID,TUORRES,TULOC\nS-1,T01,TARGET,LIVER\nS-1,NT01,NON-TARGET,BONE\n"
    out["tr"] = (
        "USUBJID,TRLNKID,TRTESTCD,TRORRES,TRORRESU,VISITNUM,TRDTC\n"
        "S-1,T01,LDIAM,30,mm,1,2024-01-15\nS-1,NT01,TUMSTATE,PRESENT,,1,2024-01-15\n"
        "S-1,T01,LDIAM,20,mm,2,2024-03-15\nS-1,NT01,TUMSTATE,ABSENT,,2,2024-03-15\n"
    )
    return out


def _read_detections(path: Path) -> Any:
    from ithkit.pathology import read_detections

    return read_detections(path, "Nucleus: DAB OD mean")


def _read_maf(path: Path) -> Any:
    from ithkit.genomic import read_maf

    return read_maf(path)


READERS: dict[str, Callable[[Path], Any]] = {
    "variants": io.read_variants,
    "segments": io.read_segments,
    "purity": io.read_purity,
    "lesions": io.read_lesions,
    "ctdna": io.read_ctdna,
    "images": lambda p: io.read_image_manifest(p, check_files=False),
    "maf": _read_maf,
    "detections": _read_detections,
}


@pytest.mark.parametrize("name", sorted(READERS))
def test_mutated_tables(name: str, seeds: dict[str, str], tmp_path_factory) -> None:
    tmp = tmp_path_factory.mktemp(name)
    check_reader(name, READERS[name], *_write_seed(tmp, name, seeds[name], False))  # seed reads

    @given(mutated(seeds[name]))
    def run(case: tuple[str, bool]) -> None:
        path, data = _write_seed(tmp, name, *case)
        check_reader(name, READERS[name], path, data)

    run()


@given(data=st.binary(max_size=300), name=st.sampled_from(sorted(READERS)), gz=st.booleans())
def test_random_bytes(data: bytes, name: str, gz: bool, tmp_path_factory) -> None:
    tmp = tmp_path_factory.mktemp("bytes")
    path = tmp / ("t.tsv.gz" if gz else "t.tsv")
    check_reader(name, READERS[name], path, gzip.compress(data) if gz else data)


def test_mutated_sdtm_tu_tr(seeds: dict[str, str], tmp_path_factory) -> None:
    from ithkit.response import read_sdtm_tumor

    tmp = tmp_path_factory.mktemp("sdtm")
    tu = tmp / "tu.csv"
    tu.write_text(seeds["tu"])

    @given(case=mutated(seeds["tr"]), mutate_tu=st.booleans())
    def run(case: tuple[str, bool], mutate_tu: bool) -> None:
        text, _ = case
        target = tu if mutate_tu else tmp / "tr.csv"
        (tmp / "tr.csv").write_text(seeds["tr"])
        tu.write_text(seeds["tu"])
        check_reader("sdtm", lambda p: read_sdtm_tumor(tu, tmp / "tr.csv"), target,
                     text.encode("utf-8", "surrogatepass"))  # fmt: skip

    run()


MANIFEST_VALUES = st.one_of(
    st.sampled_from(["les.csv", "missing.csv", "../les.csv", "/etc/hostname", "", "7", "-1"]),
    st.integers(-3, 3), st.none(), st.booleans(), st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.sampled_from(["detections", "marker", "x"]), st.text(max_size=6),
                    max_size=2),
)  # fmt: skip
MANIFEST_KEYS = st.sampled_from(
    ["patient_id", "lesions", "lesion", "variants", "seed", "attributes", "pathology",
     "singlecell", "scenario", "Patient_ID", "images"]
)  # fmt: skip


@given(
    entries=st.dictionaries(MANIFEST_KEYS, MANIFEST_VALUES, max_size=5),
    junk=st.sampled_from(["", "{", "- a\n- b\n", "patient_id: [\n", "a: b: c\n", "\t x: 1\n"]),
)
def test_manifests(entries: dict[str, Any], junk: str, tmp_path_factory) -> None:
    import yaml

    tmp = tmp_path_factory.mktemp("manifest")
    (tmp / "les.csv").write_text(
        "patient_id,lesion_id,timepoint,organ,lesion_class,is_lymph_node,diameter_mm\n"
        "P1,L1,0,lung,target,false,30\n"
    )
    text = yaml.safe_dump(entries) + junk if entries else junk
    check_reader("manifest", io.read_patient_manifest, tmp / "p.yaml", text.encode())


@pytest.fixture(scope="module")
def scenario_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    from ithkit.evolution import virtual_patient

    tmp = tmp_path_factory.mktemp("scen")
    files = virtual_patient(seed=2, n_regions=2, n_mutations=8, n_clones=2).to_files(tmp)
    return Path(files["scenario"]).read_text()


@given(data=st.data())
def test_mutated_scenarios(scenario_text: str, data: st.DataObject, tmp_path_factory) -> None:
    from ithkit.evolution import load_scenario

    lines = scenario_text.splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        line = lines[i]
        if ":" in line and data.draw(st.booleans()):
            key = line.split(":", 1)[0]
            lines[i] = f"{key}: {data.draw(CELL)!s}"
        else:
            lines[i] = data.draw(st.sampled_from(["", "  - 1", "x: [", line[: len(line) // 2]]))
    tmp = tmp_path_factory.mktemp("scenario")
    check_reader("scenario", load_scenario, tmp / "s.yaml", "\n".join(lines).encode())


@pytest.fixture(scope="module")
def nifti(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    pytest.importorskip("SimpleITK")
    from ithkit.imaging import synthetic_ct, write_volume

    tmp = tmp_path_factory.mktemp("nii")
    write_volume(synthetic_ct(shape=(6, 8, 8), radius_mm=3.0, seed=1).image, tmp / "ct.nii")
    return (tmp / "ct.nii").read_bytes()


@given(data=st.data())
def test_mutated_nifti(nifti: bytes, data: st.DataObject, tmp_path_factory) -> None:
    """NIfTI-1 header basics: truncation and edits of the magic, datatype and pixdim fields
    (dim[] edits are left out: a huge declared size is SimpleITK's to refuse, not ours)."""
    from ithkit.imaging import read_image

    raw = bytearray(nifti)
    op = data.draw(st.sampled_from(["truncate", "magic", "datatype", "pixdim", "sizeof"]))
    if op == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    elif op == "magic":
        raw[344:348] = data.draw(st.binary(min_size=4, max_size=4))
    elif op == "datatype":
        raw[70:72] = data.draw(st.binary(min_size=2, max_size=2))
    elif op == "pixdim":
        raw[76:108] = data.draw(st.binary(min_size=32, max_size=32))
    else:
        raw[0:4] = data.draw(st.binary(min_size=4, max_size=4))
    tmp = tmp_path_factory.mktemp("nifti")
    check_reader("nifti", read_image, tmp / "x.nii", bytes(raw))
