"""Bad input, volumetric and mixed response, SDTM TU/TR and RS, CLI and the patient analysis."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ithkit import InputError
from ithkit.cli import main
from ithkit.response import PATTERNS, read_sdtm_tumor, recist, to_rs

COLS = ["patient_id", "lesion_id", "timepoint", "date", "organ", "lesion_class",
        "is_lymph_node", "diameter_mm", "volume_ml", "status"]  # fmt: skip


def frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows (lesion, timepoint, organ, class, diameter, volume, status) of patient P."""
    return pd.DataFrame(
        [("P", lid, tp, f"2024-0{tp + 1}-01", organ, cls, False, d, v, s)
         for lid, tp, organ, cls, d, v, s in rows],
        columns=COLS,
    )  # fmt: skip


def write_xpt(frame: pd.DataFrame, path: Path, name: str) -> None:
    """A minimal SAS XPORT v5 writer for character-only datasets (SAS TS-140 layout).

    Readers cannot tell blank padding of the last 80-byte record from blank values, so the last
    column should hold values of equal length (as SAS files in practice do, e.g. dates).
    """
    import struct

    cols = list(frame.columns)
    data = frame.astype(str)
    lengths = [int(data[c].str.len().max()) for c in cols]
    stamp = "01JAN24:00:00:00"

    def rec(text: str) -> bytes:
        return text.ljust(80).encode("ascii")

    head = "HEADER RECORD*******{} HEADER RECORD!!!!!!!{}"
    out = rec(head.format("LIBRARY", "0" * 30))
    out += rec("SAS     SAS     SASLIB  6.06    bsd4.2  " + " " * 24 + stamp) + rec(stamp)
    out += rec(head.format("MEMBER ", "000000000000000001600000000140"))
    out += rec(head.format("DSCRPTR", "0" * 30))
    out += rec("SAS     " + name.ljust(8) + "SASDATA 6.06    bsd4.2  " + " " * 24 + stamp)
    out += rec(stamp)
    out += rec(head.format("NAMESTR", f"000000{len(cols):04d}" + "0" * 20))
    names = b""
    pos = 0
    for i, (col, n) in enumerate(zip(cols, lengths, strict=True)):
        names += struct.pack(
            ">hhhh8s40s8shhh2s8shhl52s", 2, 0, n, i + 1, col.ljust(8).encode(),
            col.ljust(40).encode(), b" " * 8, 0, 0, 0, b"  ", b" " * 8, 0, 0, pos, b"\0" * 52,
        )  # fmt: skip
        pos += n
    out += names + b" " * (-len(names) % 80)
    out += rec(head.format("OBS    ", "0" * 30))
    body = b"".join(
        b"".join(str(v).ljust(n).encode() for v, n in zip(row, lengths, strict=True))
        for row in data.itertuples(index=False)
    )
    path.write_bytes(out + body + b" " * (-len(body) % 80))


GOOD = [("L1", 0, "liver", "target", 30.0, 14.0, None), ("L1", 1, "liver", "target", 20.0, 4.0,
        None)]  # fmt: skip


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        ([*GOOD, ("L2", 1, "lung", "target", 12.0, None, None)], "missing at baseline"),
        ([*GOOD, GOOD[1]], "duplicate row"),
        (
            [GOOD[0], ("L1", 1, "liver", "non_target", 20.0, None, "present")],
            "changes lesion_class",
        ),
        ([*GOOD, ("N1", 0, "brain", "new", 10.0, None, "present")], "'new' at baseline"),
        ([("L1", 1, "liver", "target", 30.0, None, None)], "no baseline"),
        ([("L1", 0, "liver", "target", None, None, None), GOOD[1]], "no diameter above 0"),
        ([GOOD[0], ("L1", 1, "liver", "target", 20.0, None, "gone")], "not allowed"),
    ],
)
def test_bad_lesion_tables_raise(rows: list[tuple], match: str) -> None:
    with pytest.raises(InputError, match=match):
        recist(frame(rows))


@pytest.mark.parametrize(
    ("option", "match"),
    [({"criteria": "who"}, "criteria"), ({"after_cr": "pr"}, "after_cr"),
     ({"on_violation": "fix"}, "on_violation")],
)  # fmt: skip
def test_bad_options_raise(option: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        recist(frame(GOOD), **option)


def test_dates_out_of_order_raise() -> None:
    bad = frame(GOOD)
    bad.loc[1, "date"] = "2023-12-01"
    with pytest.raises(InputError, match="dates out of order"):
        recist(bad)


def test_confirmation_without_dates_raises() -> None:
    with pytest.raises(InputError, match="needs the date"):
        recist(frame(GOOD).drop(columns="date"), confirm=True)


@pytest.mark.parametrize(
    ("v1", "expected"),
    [(4.9, "PR"), (5.0, "SD")],  # base 14 ml: -65 % is 4.9 ml exactly
)
def test_volumetric_thresholds_are_exact(v1: float, expected: str) -> None:
    rows = [GOOD[0], ("L1", 1, "liver", "target", 20.0, v1, None)]
    vol = recist(frame(rows)).volumetric
    assert vol["volumetric_response"].iloc[1] == expected


def test_volumetric_progression_from_the_nadir() -> None:
    # nadir 10 ml: +73 % is 17.3 ml
    rows = [("L1", t, "liver", "target", 30.0, v, None) for t, v in enumerate([20.0, 10.0, 17.3])]
    vol = recist(frame(rows), volume_pd_pct=73).volumetric
    assert vol["volumetric_response"].tolist()[1:] == ["SD", "PD"]
    assert vol["change_from_nadir_pct"].iloc[2] == pytest.approx(73.0)


def test_mixed_response_patterns_and_heterogeneity_index() -> None:
    sizes = [(40.0, 20.0), (20.0, 20.0), (20.0, 30.0), (40.0, 36.0), (10.0, 20.0)]
    rows = [
        (lid, tp, organ, "target", pair[i], None, None)
        for tp, pair in enumerate(sizes)
        for i, (lid, organ) in enumerate([("L1", "liver"), ("L2", "lung")])
    ]
    rows.append(("N1", 4, "brain", "new", 10.0, None, "present"))
    res = recist(frame(rows))
    assert res.mixed["pattern"].tolist() == [
        "homogeneous_response",  # L1 -50 %, L2 unchanged
        "mixed",  # L1 -50 %, L2 +50 % (+10 mm)
        "homogeneous_progression",  # L1 +100 % over its nadir (20 mm), L2 +80 % (16 mm)
        "mixed",  # L1 -75 % while a new lesion appears
    ]
    assert set(res.mixed["pattern"]) <= set(PATTERNS)
    # heterogeneity index: SD of (-50, +50) = 50 percentage points
    assert res.mixed["heterogeneity_index"].iloc[1] == pytest.approx(50.0)
    organ = res.mixed_by_organ.query("timepoint == 2").set_index("organ")["pattern"]
    assert organ.to_dict() == {"liver": "homogeneous_response", "lung": "homogeneous_progression"}
    lesion = res.lesions.query("lesion_id == 'L2' and timepoint == 2").iloc[0]
    assert (lesion["lesion_response"], lesion["change_from_baseline_pct"]) == ("PD", 50.0)


def test_sdtm_tu_tr_csv_round_trip_and_rs(tmp_path: Path) -> None:
    tu = pd.DataFrame({
        "STUDYID": "S", "DOMAIN": "TU", "USUBJID": ["S-1", "S-1", "S-1"],
        "TULNKID": ["T01", "T02", "NT01"], "TUORRES": ["TARGET", "TARGET", "NON-TARGET"],
        "TULOC": ["LIVER", "LYMPH NODE", "BONE"],
    })  # fmt: skip
    tr = []
    for visit, (d1, d2, nt) in zip((1, 2, 3), [(3.0, 20, "PRESENT"), (2.1, 9, "ABSENT"),
                                              (1.0, 8, "ABSENT")], strict=True):  # fmt: skip
        date = f"2024-0{visit}-15"
        tr += [
            ("S-1", "T01", "LDIAM", str(d1), "cm", visit, date),
            ("S-1", "T02", "SAXIS", str(d2), "mm", visit, date),
            ("S-1", "NT01", "TUMSTATE", nt, "", visit, date),
        ]
    trf = pd.DataFrame(tr, columns=["USUBJID", "TRLNKID", "TRTESTCD", "TRORRES", "TRORRESU",
                                    "VISITNUM", "TRDTC"])  # fmt: skip
    tu.to_csv(tmp_path / "tu.csv", index=False)
    trf.to_csv(tmp_path / "tr.csv", index=False)
    les = read_sdtm_tumor(tmp_path / "tu.csv", tmp_path / "tr.csv")
    t01 = les.query("lesion_id == 'T01'")["diameter_mm"].tolist()
    assert t01 == [30.0, 21.0, 10.0]  # cm -> mm
    assert bool(les.query("lesion_id == 'T02'")["is_lymph_node"].all())
    res = recist(les)
    # 50 -> 30 mm (-40 %, node 9 mm but liver 21 mm): PR; then 18 mm: PR
    assert res.timepoints["overall_response"].tolist()[1:] == ["PR", "PR"]
    rs = to_rs(res)
    ovr = rs.query("RSTESTCD == 'OVRLRESP'")
    assert ovr["RSORRES"].tolist() == ["PR", "PR"]
    assert ovr["RSCAT"].iloc[0] == "RECIST 1.1"
    assert rs.query("RSTESTCD == 'BESTRSP'")["RSORRES"].tolist() == ["PR"]
    assert rs["RSSEQ"].tolist() == list(range(1, len(rs) + 1))
    # the same domains as SAS transport (XPT) files
    write_xpt(tu[[*tu.columns.drop("USUBJID"), "USUBJID"]], tmp_path / "tu.xpt", "TU")
    write_xpt(trf, tmp_path / "tr.xpt", "TR")
    from_xpt = read_sdtm_tumor(tmp_path / "tu.xpt", tmp_path / "tr.xpt")
    pd.testing.assert_frame_equal(from_xpt, les)
    trf.loc[2, "TRORRES"] = "GONE"
    trf.to_csv(tmp_path / "tr.csv", index=False)
    with pytest.raises(InputError, match="unknown TUMSTATE result 'GONE'"):
        read_sdtm_tumor(tmp_path / "tu.csv", tmp_path / "tr.csv")


def test_cli_writes_the_interface_columns(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from ithkit.evolution import virtual_patient

    vp = virtual_patient(seed=7, n_regions=1, n_mutations=30, n_clones=3)
    files = vp.to_files(tmp_path / "data")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        main(["response", "recist", str(files["lesions"]), "--out", str(out), "--confirm",
              "--criteria", "irecist", "--rs"])  # fmt: skip
    assert info.value.code == 0
    assert "VP7" in capsys.readouterr().out
    expected = {
        "timepoints.tsv": "patient_id timepoint sum_diameters_mm change_from_baseline_pct "
        "change_from_nadir_pct target_response non_target_response new_lesions overall_response",
        "best_response.tsv": "patient_id best_overall_response confirmed",
        "lesions.tsv": "patient_id lesion_id timepoint change_from_baseline_pct lesion_response",
        "mixed.tsv": "patient_id timepoint pattern",
    }
    for name, header in expected.items():
        table = pd.read_csv(out / name, sep="\t")
        assert list(table.columns) == header.split()
    codes = set(pd.read_csv(out / "timepoints.tsv", sep="\t")["overall_response"].dropna())
    assert codes <= {"iCR", "iPR", "iSD", "iUPD", "iCPD", "NE", "NON_iCR_NON_iUPD"}
    assert (out / "rs.csv").exists()


def test_cli_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = frame([*GOOD, ("L2", 1, "lung", "target", 12.0, None, None)])
    bad.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(SystemExit) as info:
        main(["response", "recist", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "o")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "missing at baseline" in err and err.count("\n") == 1
