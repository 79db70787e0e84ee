"""Expression CNV at scale: chunked, backed and compiled paths give the same results as one pass;
memory is estimated before any work and too-large runs are refused with one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anndata as ad
import numpy as np
import pytest
import scipy.sparse as sp

import ithkit.singlecell._cnv as cnv_module
from ithkit import InputError
from ithkit.cli import main
from ithkit.singlecell import cnv_memory, infer_cnv, plan_cnv, simulate_scrna

from .conftest import REFERENCE

KW: dict[str, Any] = {"reference_key": "cell_type", "reference": REFERENCE, "window": 25,
                      "step": 5}  # fmt: skip


@pytest.fixture(scope="module")
def small() -> Any:
    """500 cells x 1,000 genes, counts in .X only (so the file can be read backed)."""
    a = simulate_scrna(500, 1000, n_subclones=2, seed=5)
    del a.layers["counts"]
    return a


@pytest.fixture(scope="module")
def one_pass(small: Any) -> Any:
    """``small`` after CNV inference in one block."""
    return infer_cnv(small, copy=True, chunk_size=10_000, **KW)


def _assert_same(a: Any, b: Any) -> None:
    xa, xb = a.obsm["X_cnv"], b.obsm["X_cnv"]
    assert xa.shape == xb.shape and (xa != xb).nnz == 0
    np.testing.assert_array_equal(a.obs["cnv_score"], b.obs["cnv_score"])
    assert (a.obs["malignant"] == b.obs["malignant"]).all()
    assert a.obs["subclone"].astype(str).equals(b.obs["subclone"].astype(str))
    assert a.uns["cnv"]["subclones"].equals(b.uns["cnv"]["subclones"])


def test_same_as_before_the_chunked_rewrite(cnv: Any) -> None:
    # golden values: the previous implementation (ithkit commit ebe787e, which loaded the whole
    # matrix and densified cells x windows) on the conftest tumour (1,200 x 2,000, seed 0)
    x = cnv.obsm["X_cnv"]
    assert x.shape == (1200, 298) and x.nnz == 44453
    assert float(x.sum(dtype=np.float64)) == pytest.approx(-266.11972945928574, rel=1e-12)
    assert float(np.abs(x.data).astype(np.float64).sum()) == pytest.approx(16969.015443325043,
                                                                           rel=1e-12)  # fmt: skip
    assert int(cnv.obs["malignant"].sum()) == 711
    assert cnv.uns["cnv"]["malignant_threshold"] == pytest.approx(0.05427302047610283, rel=1e-12)
    table = cnv.uns["cnv"]["subclones"]
    assert table["n_cells"].tolist() == [238, 238, 235]
    assert table["gains"].tolist() == ["1q,7p,7q", "7p,7q,8q", "7p,7q,12p,20q"]


def test_chunked_equals_one_pass(small: Any, one_pass: Any) -> None:
    assert one_pass.obs["malignant"].sum() > 100 and len(one_pass.uns["cnv"]["subclones"]) == 2
    _assert_same(one_pass, infer_cnv(small, copy=True, chunk_size=97, **KW))


def test_compiled_smoothing_equals_scipy(small: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cnv_module, "_USE_NUMBA", False)
    scipy_path = infer_cnv(small, copy=True, chunk_size=250, **KW)
    monkeypatch.setattr(cnv_module, "_USE_NUMBA", True)
    compiled = infer_cnv(small, copy=True, chunk_size=250, **KW)
    _assert_same(scipy_path, compiled)


@pytest.mark.parametrize("values", ["raw counts", "log-normalised"])
def test_backed_equals_in_memory(small: Any, tmp_path: Path, values: str) -> None:
    a = small.copy()
    if values != "raw counts":
        x = a.X.astype(np.float32)
        x = sp.csr_matrix(sp.diags(1e4 / np.asarray(x.sum(axis=1)).ravel()) @ x)
        x.data = np.log1p(x.data)
        a.X = x
    path = tmp_path / "t.h5ad"
    a.write_h5ad(path)
    in_memory = infer_cnv(a, copy=True, **KW)
    backed = ad.read_h5ad(path, backed="r")
    infer_cnv(backed, chunk_size=200, **KW)
    assert backed.isbacked and backed.uns["cnv"]["input_assumed"].startswith(values)
    _assert_same(in_memory, backed)


def test_memory_estimate_grows_with_cells_not_genes() -> None:
    small = cnv_memory(100_000, 20_000, 150_000_000, 2_000, chunk_size=5000)
    big = cnv_memory(500_000, 20_000, 750_000_000, 2_000, chunk_size=5000)
    # cells x windows float32 profiles dominate; the chunk does not grow with the cells
    assert big.profile_bytes == pytest.approx(5 * small.profile_bytes)
    assert big.chunk_bytes == small.chunk_bytes
    assert 4e9 < big.total_bytes < 8e9


def test_api_refuses_when_memory_is_short(small: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITHKIT_MEMORY_LIMIT_BYTES", "1000")
    with pytest.raises(InputError, match=r"would need about .* GB of memory"):
        infer_cnv(small, copy=True, **KW)


def test_plan_reads_backed_when_loading_does_not_fit(
    small: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.h5ad"
    small.write_h5ad(path)
    loaded = plan_cnv(path, window=25, step=5, backed=False).memory
    backed = plan_cnv(path, window=25, step=5, backed=True).memory
    assert backed.input_bytes == 0 < loaded.input_bytes
    # a budget (half the limit) between the two: loading does not fit, reading backed does
    limit = int(loaded.total_bytes + backed.total_bytes)
    monkeypatch.setenv("ITHKIT_MEMORY_LIMIT_BYTES", str(limit))
    assert plan_cnv(path, window=25, step=5).backed


def _run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(argv)
    return int(info.value.code or 0)


def test_cli_backed_run_and_refusal(
    small: Any,
    one_pass: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "t.h5ad"
    small.write_h5ad(path)
    args = ["singlecell", "cnv", str(path), "--reference-key", "cell_type", "--reference",
            "T cell,macrophage", "--window", "25", "--step", "5",
            "--chunk-size", "150"]  # fmt: skip
    assert _run([*args, "--backed", "--out", str(tmp_path / "b.h5ad")]) == 0
    printed = capsys.readouterr().out
    assert "memory    about" in printed and "backed" in printed
    out = ad.read_h5ad(tmp_path / "b.h5ad")
    _assert_same(one_pass, out)
    assert (out.X != small.X).nnz == 0  # the counts are carried over from the file
    monkeypatch.setenv("ITHKIT_MEMORY_LIMIT_BYTES", "1000")
    assert _run([*args, "--out", str(tmp_path / "c.h5ad")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "would need about" in err[0] and str(path) in err[0]
    assert not (tmp_path / "c.h5ad").exists()
