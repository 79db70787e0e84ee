"""Collateral sensitivity of derived lines on simulated assays with known truth."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ithkit import InputError
from ithkit.cli import main
from ithkit.functional import (
    COLLATERAL_COLUMNS,
    FITS_COLUMNS,
    collateral_sensitivity,
    fit_responses,
    synthetic_responses,
)


@pytest.fixture(scope="module")
def assay() -> tuple[pd.DataFrame, pd.DataFrame]:
    return synthetic_responses(seed=2)


def test_calls_follow_the_truth(assay: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    responses, derivatives = assay
    fits = fit_responses(responses, n_bootstrap=0)
    coll = collateral_sensitivity(fits, derivatives, n_bootstrap=40, seed=1)
    calls = coll.table.set_index(["sample_id", "drug"])["call"].to_dict()
    # truth (DEFAULT_TRUTH): RA resists A and is sensitive to B; RB the other way round
    assert calls == {
        ("RA", "A"): "resistant",
        ("RA", "B"): "sensitive",
        ("RB", "A"): "sensitive",
        ("RB", "B"): "resistant",
    }
    assert coll.double_bind_pairs == (("A", "B"),)
    assert list(coll.table.columns) == list(COLLATERAL_COLUMNS)
    row = coll.table.set_index(["sample_id", "drug"]).loc[("RA", "B")]
    assert row["low"] <= row["log2_ratio"] <= row["high"] < 0


def test_a_line_without_change_is_neutral(assay: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    responses, _ = assay
    twin = responses[responses["sample_id"] == "P"].copy()
    twin["sample_id"] = "P2"
    both = pd.concat([responses[responses["sample_id"] == "P"], twin], ignore_index=True)
    deriv = pd.DataFrame({"sample_id": ["P2"], "parent": ["P"], "selected_with": ["A"]})
    coll = collateral_sensitivity(fit_responses(both, n_bootstrap=0), deriv, n_bootstrap=40)
    assert set(coll.table["call"]) == {"neutral"} and coll.double_bind_pairs == ()


def test_missing_parent_is_an_input_error(assay: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    responses, _ = assay
    deriv = pd.DataFrame({"sample_id": ["RA"], "parent": ["XX"], "selected_with": ["A"]})
    with pytest.raises(InputError, match="parent 'XX'"):
        collateral_sensitivity(fit_responses(responses, n_bootstrap=0), deriv, n_bootstrap=40)


def _run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(args)
    return int(info.value.code or 0)


@pytest.mark.requires_report
def test_cli_fit_with_derivatives(tmp_path: Path, assay, capsys) -> None:
    responses, derivatives = assay
    rpath, dpath = tmp_path / "responses.tsv", tmp_path / "derivatives.tsv"
    responses.to_csv(rpath, sep="\t", index=False)
    derivatives.to_csv(dpath, sep="\t", index=False)
    out = tmp_path / "out"
    code = _run(
        [
            "functional",
            "fit",
            str(rpath),
            "--derivatives",
            str(dpath),
            "--out",
            str(out),
            "--bootstrap",
            "40",
        ]
    )
    assert code == 0
    fits = pd.read_csv(out / "fits.tsv", sep="\t")
    assert list(fits.columns[: len(FITS_COLUMNS)]) == list(FITS_COLUMNS)
    assert (out / "collateral.tsv").exists() and (out / "dose_response_A.svg").exists()
    assert "A/B" in capsys.readouterr().out
    bad = tmp_path / "bad.tsv"
    bad.write_text("sample_id\tparent\tselected_with\nRA\tnope\tA\n")
    assert (
        _run(["functional", "fit", str(rpath), "--derivatives", str(bad), "--out", str(out)]) == 2
    )
    err = capsys.readouterr().err
    assert "bad.tsv: line 2, column parent" in err and err.count("\n") == 1


@pytest.mark.requires_report
def test_figures_draw_every_sample_and_the_heatmap(assay) -> None:
    from ithkit.report.functional import collateral_heatmap, dose_response_figure

    responses, derivatives = assay
    fits = fit_responses(responses, n_bootstrap=0)
    fig = dose_response_figure(fits, "A")
    ax = fig.axes[0]
    assert len(ax.lines) == 3 + 1  # one curve per sample and the 0.5 guide
    assert ax.get_xscale() == "log"
    coll = collateral_sensitivity(fits, derivatives, n_bootstrap=40)
    heat = collateral_heatmap(coll.table)
    texts = {t.get_text() for t in heat.axes[0].texts}
    assert texts == {"S", "R"}
