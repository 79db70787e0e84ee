"""`ithkit spatial heterogeneity` and its bad-input messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.cli import main
from ithkit.singlecell import read_h5ad
from ithkit.spatial import heterogeneity, simulate_tissue


def _run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(argv)
    return int(info.value.code or 0)


@pytest.fixture(scope="module")
def section(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sp") / "section.h5ad"
    simulate_tissue("immune_excluded", 1200, seed=0).write_h5ad(path)
    return path


@pytest.mark.parametrize("hood", [["--radius", "40"], ["--neighbours", "8"]])
def test_heterogeneity_writes_contract(section: Path, tmp_path: Path, hood: list[str]) -> None:
    out = tmp_path / "out"
    code = _run(["spatial", "heterogeneity", str(section), "--label-key", "cell_type", *hood,
                 "--out", str(out), "--perms", "50"])  # fmt: skip
    assert code == 0
    summary = pd.read_csv(out / "summary.tsv", sep="\t")
    assert list(summary.columns) == ["metric", "value"]
    metrics = summary.set_index("metric")["value"]
    assert metrics["infiltration_category"] == "excluded"
    for m in ("global_shannon", "mean_local_shannon", "global_rao", "mean_local_rao",
              "morans_i_local_shannon", "infiltration_score"):  # fmt: skip
        assert np.isfinite(float(metrics[m]))
    enr = pd.read_csv(out / "neighbourhood_enrichment.tsv", sep="\t")
    assert list(enr.columns) == ["label_a", "label_b", "observed", "expected", "zscore"]
    local = pd.read_csv(out / "local_diversity.tsv", sep="\t")
    assert list(local.columns[:3]) == ["cell_id", "shannon", "simpson"]
    assert "niche" in local.columns and len(local) == 1200
    a = read_h5ad(out / section.name)
    assert {"local_shannon", "niche", "compartment"} <= set(a.obs.columns)
    assert "cell_type_nhood_enrichment" in a.uns


def test_both_neighbourhoods_exit_2(section: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _run(["spatial", "heterogeneity", str(section), "--label-key", "cell_type",
                 "--radius", "5", "--neighbours", "3", "--out", "x"])  # fmt: skip
    assert code == 2 and "--neighbours" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["no coordinates", "missing key", "nan label", "one label",
                                  "nan coordinates"])  # fmt: skip
def test_bad_sections(case: str) -> None:
    a = simulate_tissue("random", 100, seed=0)
    key = "cell_type"
    if case == "no coordinates":
        del a.obsm["spatial"]
    elif case == "missing key":
        key = "phenotype"
    elif case == "nan label":
        a.obs["cell_type"] = a.obs["cell_type"].astype(object)
        a.obs.iloc[3, 0] = None
    elif case == "one label":
        a.obs["cell_type"] = "tumour"
    else:
        a.obsm["spatial"][0, 0] = np.nan
    with pytest.raises(InputError) as info:
        heterogeneity(a, key, n_perms=10, source="s.h5ad")
    assert str(info.value).startswith("s.h5ad") and "\n" not in str(info.value)


def test_unknown_tumour_label() -> None:
    a = simulate_tissue("random", 100, seed=0)
    with pytest.raises(InputError, match="tumour label"):
        heterogeneity(a, "cell_type", tumour=["cancer"], immune=["immune"], n_perms=10)


def test_big_section_prints_memory_estimate_and_steps(
    section: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    import ithkit.spatial._analyze as analyze

    monkeypatch.setattr(analyze, "BIG_SECTION", 1000)  # the section has 1,200 cells
    code = _run(["spatial", "heterogeneity", str(section), "--label-key", "cell_type",
                 "--radius", "40", "--out", str(tmp_path / "o"), "--perms", "20"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0
    assert "1,200 cells, ~" in err and "MB beyond the loaded section" in err
    assert "graph" in err and "co-occurrence" in err  # one line per step
    # a section that would not fit in half the available memory is refused before any work
    monkeypatch.setenv("ITHKIT_MEMORY_LIMIT_BYTES", str(10**6))
    code = _run(["spatial", "heterogeneity", str(section), "--label-key", "cell_type",
                 "--radius", "40", "--out", str(tmp_path / "o2"), "--perms", "20"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "GB of memory" in err
    assert not (tmp_path / "o2").exists()
