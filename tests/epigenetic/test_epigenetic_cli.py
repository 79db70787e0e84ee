"""The ``ithkit epigenetic`` commands end to end on a simulated virtual patient."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ithkit.cli import main
from ithkit.epigenetic import ITH_COLUMNS, LOCI_COLUMNS, SUMMARY_COLUMNS


def _run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(args)
    return int(info.value.code or 0)


def test_simulate_heterogeneity_regions(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    sim = tmp_path / "sim"
    assert _run(["epigenetic", "simulate", "--out", str(sim), "--seed", "1", "--n-loci", "60"]) == 0
    r1 = tmp_path / "r1"
    assert _run(["epigenetic", "heterogeneity", str(sim / "CpG_context_R1.txt.gz"),
                 "--out", str(r1), "--min-reads", "5"]) == 0  # fmt: skip
    loci = pd.read_csv(r1 / "loci.tsv", sep="\t")
    assert tuple(loci.columns) == LOCI_COLUMNS and len(loci) == 60
    summary = pd.read_csv(r1 / "summary.tsv", sep="\t")
    assert tuple(summary.columns) == SUMMARY_COLUMNS
    assert summary.loc[0, "sample_id"] == "R1" and summary.loc[0, "min_reads"] == 5
    reg = tmp_path / "reg"
    files = [str(sim / f"CpG_context_R{i}.txt.gz") for i in range(1, 5)]
    code = _run(["epigenetic", "regions", *files, "--clones", str(sim / "clones.tsv"),
                 "--out", str(reg)])  # fmt: skip
    assert code == 0
    ith = pd.read_csv(reg / "ith.tsv", sep="\t")
    assert tuple(ith.columns) == ITH_COLUMNS and ith.loc[0, "n_regions"] == 4
    assert ith.loc[0, "tree_rf_max"] == 2
    assert (reg / "tree.nwk").read_text().startswith("(")
    assert pd.read_csv(reg / "distance.tsv", sep="\t").shape == (6, 4)
    assert "Robinson-Foulds" in capsys.readouterr().out


def test_regions_from_betas_and_coverage(tmp_path: Path) -> None:
    betas = tmp_path / "betas.tsv"
    rows = [f"cg{i}\t{i / 20:.2f}\t{1 - i / 20:.2f}\t0.5" for i in range(20)]
    betas.write_text("probe\tR1\tR2\tR3\n" + "\n".join(rows) + "\n")
    assert _run(["epigenetic", "regions", "--betas", str(betas), "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "b" / "regions.tsv").exists()
    covs = []
    for r, shift in (("A", 0), ("B", 1)):
        p = tmp_path / f"{r}.bismark.cov"
        p.write_text("".join(f"chr1\t{10 * i}\t{10 * i}\t{100 * ((i + shift) % 2)}\t"
                             f"{10 * ((i + shift) % 2)}\t{10 * (1 - (i + shift) % 2)}\n"
                             for i in range(1, 13)))  # fmt: skip
        covs.append(str(p))
    assert _run(["epigenetic", "regions", *covs, "--out", str(tmp_path / "c")]) == 0
    d = pd.read_csv(tmp_path / "c" / "distance.tsv", sep="\t")
    assert d.loc[0, ["region_a", "region_b", "distance"]].tolist() == ["A", "B", 1.0]


def test_bad_input_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    p = tmp_path / "calls.txt"
    p.write_text("r1\t+\tchr1\t10\tZ\nr1\t+\tchr1\t12\tX\n")
    assert _run(["epigenetic", "heterogeneity", str(p), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "line 2, column call" in err and err.count("\n") == 1
    assert _run(["epigenetic", "regions", "--out", str(tmp_path / "o")]) == 2
