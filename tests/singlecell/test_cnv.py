"""Expression CNV: malignant calls, subclones and their arm-level events against planted truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.metrics import adjusted_rand_score

from ithkit import InputError
from ithkit.singlecell import (
    cnv_result,
    gene_order,
    gene_positions_from_gtf,
    infer_cnv,
    simulate_scrna,
    smoothing_matrix,
)

from .conftest import REFERENCE


def test_malignant_call_recovers_truth(cnv: Any) -> None:
    obs = cnv.obs
    accuracy = (obs["malignant"] == obs["true_malignant"]).mean()
    assert accuracy > 0.97
    # reference cells are never malignant; the non-reference normal types are called too
    assert not obs.loc[obs["cell_type"].isin(REFERENCE), "malignant"].any()
    other = obs["cell_type"].isin(["fibroblast", "epithelial"])
    assert obs.loc[other, "malignant"].mean() < 0.05


def test_results_follow_scverse_layout(cnv: Any) -> None:
    assert sp.issparse(cnv.obsm["X_cnv"]) and cnv.obsm["X_cnv"].shape[0] == cnv.n_obs
    assert cnv.obs["malignant"].dtype == bool
    assert isinstance(cnv.obs["subclone"].dtype, pd.CategoricalDtype)
    # subclone is empty exactly for non-malignant cells
    assert (cnv.obs["subclone"].isna() == ~cnv.obs["malignant"]).all()
    assert cnv.obs["cnv_score"].ge(0).all()
    assert cnv.uns["cnv"]["input_assumed"] == "raw counts from layers['counts']"


@pytest.mark.parametrize("seed", [0, 2])
def test_subclones_recovered(seed: int) -> None:
    a = simulate_scrna(1000, 2000, n_subclones=3, seed=seed)
    a = infer_cnv(a, reference_key="cell_type", reference=REFERENCE, window=25, step=5)
    m = a.obs["true_malignant"].to_numpy() & a.obs["malignant"].to_numpy()
    ari = adjusted_rand_score(a.obs["true_subclone"][m].astype(str),
                              a.obs["subclone"][m].astype(str))  # fmt: skip
    assert ari > 0.85
    assert len(a.uns["cnv"]["subclones"]) == 3


def test_subclone_events_match_planted(cnv: Any) -> None:
    truth = cnv.uns["simulation"]
    table = cnv_result(cnv).subclones.set_index("subclone")
    m = cnv.obs["malignant"].to_numpy()
    pairs = pd.crosstab(cnv.obs["true_subclone"][m], cnv.obs["subclone"][m].astype(str))
    for true_id, found in pairs.idxmax(axis=1).items():
        gains = set(filter(None, table.loc[found, "gains"].split(",")))
        losses = set(filter(None, table.loc[found, "losses"].split(",")))
        planted = truth["subclone_events"][true_id] + truth["trunk_events"]
        for event in planted:
            arm = event[1:]
            assert arm in (gains if event[0] == "+" else losses), (true_id, event)


def test_reference_cells_are_flat(cnv: Any) -> None:
    x = cnv.obsm["X_cnv"]
    ref = cnv.obs["cell_type"].isin(REFERENCE).to_numpy()
    mal = cnv.obs["true_malignant"].to_numpy()
    assert abs(x[ref]).mean() < 0.4 * abs(x[mal]).mean()


@pytest.mark.parametrize("where", ["X", "layer", "normalised"])
def test_input_kinds_agree(scrna: Any, cnv: Any, where: str) -> None:
    a = scrna[:, :].copy()
    counts = a.layers.pop("counts")
    expected = "raw counts from .X"
    if where == "layer":
        a.layers["raw"] = counts
        a.X = sp.csr_matrix(counts.shape, dtype=np.float32)
        expected = "raw counts from layers['raw']"
    elif where == "normalised":
        totals = np.asarray(counts.sum(axis=1)).ravel()
        a.X = sp.csr_matrix(sp.diags(1e6 / totals) @ counts)  # CPM: not integers, not log
        expected = "normalised (non-log) from .X"
    a = infer_cnv(a, reference_key="cell_type", reference=REFERENCE, window=25, step=5,
                  layer="raw" if where == "layer" else None)  # fmt: skip
    assert a.uns["cnv"]["input_assumed"] == expected
    assert sp.issparse(a.X)
    r = np.corrcoef(a.obsm["X_cnv"].toarray().ravel(), cnv.obsm["X_cnv"].toarray().ravel())[0, 1]
    assert r > 0.99


def test_smoothing_matrix_averages_within_chromosomes(scrna: Any) -> None:
    genes = gene_order(scrna)
    mat, windows = smoothing_matrix(genes, scrna.n_vars, window=20, step=5)
    assert np.allclose(np.asarray(mat.sum(axis=0)).ravel(), 1.0, atol=1e-5)
    chrom = genes.set_index("gene_index")["chromosome"]
    coo = mat.tocoo()
    per_window = pd.Series(chrom.loc[coo.row].to_numpy()).groupby(coo.col).nunique()
    assert (per_window == 1).all()
    assert list(windows["chromosome"].unique())[:3] == ["1", "2", "3"]


def test_gtf_positions(tmp_path: Path, scrna: Any) -> None:
    var = scrna.var.head(50)
    lines = [
        f'{r.chromosome}\tsim\tgene\t{r.start}\t{r.end}\t.\t+\t.\tgene_id "ID{i}"; '
        f'gene_name "{name}";'
        for i, (name, r) in enumerate(var.iterrows())
    ]
    gtf = tmp_path / "genes.gtf"
    gtf.write_text("#!header\n" + "\n".join(lines) + "\n")
    pos = gene_positions_from_gtf(gtf)
    assert pos.loc[var.index[3], "start"] == var["start"].iloc[3]
    assert pos.loc["ID3", "chromosome"] == var["chromosome"].iloc[3]
    a = scrna[:, :50].copy()
    a.var = a.var.drop(columns=["chromosome", "start", "end", "arm"])
    order = gene_order(a, gtf=gtf)
    assert len(order) == 50 and order["arm"].iloc[0] == "1p"


def _bad(scrna: Any, case: str) -> tuple[Any, dict[str, Any]]:
    a = scrna[:100, :300].copy()
    kw: dict[str, Any] = {"reference_key": "cell_type", "reference": REFERENCE}
    if case == "missing key":
        kw["reference_key"] = "celltype"
    elif case == "absent category":
        kw["reference"] = ["B cell"]
    elif case == "no positions":
        a.var = a.var.drop(columns=["start"])
    elif case == "negative values":
        del a.layers["counts"]
        a.X = sp.csr_matrix(-np.ones((100, 300), dtype=np.float32))
    elif case == "non-numeric":
        del a.layers["counts"]
        a.X = np.full((100, 300), "x", dtype=object)
    elif case == "empty reference":
        kw["reference"] = []
    return a, kw


@pytest.mark.parametrize(
    "case",
    ["missing key", "absent category", "no positions", "negative values", "non-numeric",
     "empty reference"],
)  # fmt: skip
def test_bad_input_is_one_line(scrna: Any, case: str) -> None:
    a, kw = _bad(scrna, case)
    with pytest.raises(InputError) as info:
        infer_cnv(a, source="in.h5ad", **kw)
    message = str(info.value)
    assert "\n" not in message and message.startswith("in.h5ad")


def test_subclone_tree_has_planted_trunk(cnv: Any) -> None:
    from ithkit.singlecell import subclone_tree

    tree = subclone_tree(cnv_result(cnv).subclones).set_index("node")
    trunk = set(tree.loc["trunk", "events"].split(","))
    assert {"+7p", "+7q", "-10q"} <= trunk
    assert tree.loc["trunk", "parent"] == "normal"
    # every subclone adds its own planted events below the trunk
    assert (tree.drop(index="trunk")["events"] != "").all()
