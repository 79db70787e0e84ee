"""Methylation ITH across regions: pairwise distances, variably methylated loci, a neighbour-
joining methylation tree and its Robinson-Foulds distance to the genetic tree of the regions.

The genetic tree of the regions is built the same way from the clone tree: the genetic distance
between regions a and b is the expected mean absolute difference of their mutation CCFs,
``sum_k w_k |CCF_ka - CCF_kb| / sum_k w_k`` over clones k with ``w_k`` the clone's number of
mutations (its branch length in the clone tree; 1 each when unknown). A clone's CCF is the summed
prevalence of the clone and its descendants, so the distance follows the clone tree: regions that
share a subclone are close, a branch's mutations weigh by their number. Neighbour joining on it
gives a tree with the regions as leaves, comparable with the methylation tree.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ithkit import schema
from ithkit._errors import IgnoredColumnsWarning, InputError
from ithkit.epigenetic._io import check_beta
from ithkit.epigenetic._nj import RegionTree, neighbor_joining, robinson_foulds

REGION_COLUMNS = ("region_id", "n_cpgs", "mean_methylation", "mean_distance")
DISTANCE_COLUMNS = ("region_a", "region_b", "distance", "n_shared")
ITH_COLUMNS = (
    "n_regions", "n_cpgs_shared", "fraction_variable", "variable_threshold", "distance_mean",
    "distance_max", "tree_rf", "tree_rf_max", "tree_rf_normalised",
)  # fmt: skip


CLONE_CCF = schema.Contract(
    name="clone CCFs",
    description="CCF of each clone in each region, e.g. the genomic module's clones.tsv.",
    columns=(
        schema.Column("clone_id", "id"),
        schema.Column("sample_id", "id"),
        schema.Column("ccf", "float", minimum=0, maximum=1, unit="fraction 0..1"),
        schema.Column("n_mutations", "int", required=False, nullable=True, minimum=0),
    ),
    key=("clone_id", "sample_id"),
)


def read_clone_ccf(path: str | Path) -> pd.DataFrame:
    """Read ``clone_id, sample_id, ccf`` (+ ``n_mutations``), e.g. ``ithkit genomic
    analyze``'s ``clones.tsv``; other columns are ignored.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "clones.tsv"
    >>> _ = p.write_text("clone_id\\tsample_id\\tccf\\nC1\\tR1\\t1.0\\n")
    >>> read_clone_ccf(p)["ccf"].tolist()
    [1.0]
    """
    from ithkit.io import read_table

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IgnoredColumnsWarning)
        return read_table(path, CLONE_CCF)


@dataclass(frozen=True)
class RegionResult:
    """Methylation ITH of a patient's regions.

    Attributes
    ----------
    regions
        ``region_id, n_cpgs, mean_methylation, mean_distance`` (+ read-level medians
        ``median_pdr, median_epipolymorphism, median_entropy, median_mhl`` when given).
    distance
        ``region_a, region_b, distance, n_shared`` for every pair (a < b in input order):
        mean absolute beta difference over the CpGs/probes both regions cover.
    summary
        One row: :data:`ITH_COLUMNS` (``tree_rf`` missing without a genetic tree).
    tree
        Neighbour-joining tree of the methylation distances.
    genetic_tree
        Neighbour-joining tree of the regions' clone-CCF distances, when clones were given.
    genetic_distance
        The genetic distances (same layout as ``distance``), when clones were given.
    """

    regions: pd.DataFrame
    distance: pd.DataFrame
    summary: pd.DataFrame
    tree: RegionTree
    genetic_tree: RegionTree | None = None
    genetic_distance: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def matrix(self, which: str = "methylation") -> pd.DataFrame:
        """Square distance matrix (``"methylation"`` or ``"genetic"``), regions in order."""
        long = self.distance if which == "methylation" else self.genetic_distance
        ids = list(self.regions["region_id"])
        out = pd.DataFrame(0.0, index=ids, columns=ids)
        if long is None:
            raise InputError("no genetic distances", source="which", fix="give clones")
        for a, b, d in long[["region_a", "region_b", "distance"]].itertuples(index=False):
            out.loc[a, b] = out.loc[b, a] = d
        return out

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``regions.tsv, distance.tsv, ith.tsv, tree.nwk`` (+ ``genetic_tree.nwk,
        genetic_distance.tsv``)."""
        from ithkit._atomic import atomic_path
        from ithkit.io import write_table

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "regions": write_table(self.regions, out / "regions.tsv"),
            "distance": write_table(self.distance, out / "distance.tsv"),
            "ith": write_table(self.summary, out / "ith.tsv"),
        }
        trees = [("tree", self.tree)]
        if self.genetic_tree is not None and self.genetic_distance is not None:
            trees.append(("genetic_tree", self.genetic_tree))
            files["genetic_distance"] = write_table(
                self.genetic_distance, out / "genetic_distance.tsv"
            )
        for name, tree in trees:
            with atomic_path(out / f"{name}.nwk") as tmp:
                tmp.write_text(tree.newick() + "\n", encoding="utf-8")
            files[name] = out / f"{name}.nwk"
        return files


def region_betas(regions: Mapping[str, pd.DataFrame], *, min_coverage: int = 5) -> pd.DataFrame:
    """Beta values per CpG (rows ``chrom:position``) and region (columns).

    Parameters
    ----------
    regions
        Region id -> per-CpG table with ``chrom, position`` and either ``n_methylated,
        n_unmethylated`` (read counts, e.g. :attr:`ReadLevelResult.cpgs` or
        :func:`read_coverage`) or ``beta``.
    min_coverage
        CpGs with fewer reads in a region are missing there (counts only).

    Returns
    -------
    pandas.DataFrame
        Beta (0..1) with NaN where a region does not cover the CpG.

    Examples
    --------
    >>> import pandas as pd
    >>> cov = pd.DataFrame({"chrom": ["chr1"], "position": [10], "n_methylated": [6],
    ...                     "n_unmethylated": [2]})
    >>> region_betas({"R1": cov}).loc["chr1:10", "R1"]
    np.float64(0.75)
    """
    cols = {}
    for rid, tab in regions.items():
        if {"n_methylated", "n_unmethylated"} <= set(tab.columns) and not tab[
            "n_methylated"
        ].isna().all():
            nm = tab["n_methylated"].to_numpy(dtype=float)
            tot = nm + tab["n_unmethylated"].to_numpy(dtype=float)
            with np.errstate(invalid="ignore", divide="ignore"):
                beta = np.where(tot >= max(min_coverage, 1), nm / tot, np.nan)
        elif "beta" in tab.columns:
            beta = tab["beta"].to_numpy(dtype=float)
        else:
            raise InputError(
                "no n_methylated/n_unmethylated or beta column",
                source=str(rid),
                fix="give per-CpG counts or beta values",
            )
        idx = tab["chrom"].astype(str) + ":" + tab["position"].astype(np.int64).astype(str)
        s = pd.Series(beta, index=idx.to_numpy())
        s = s[~s.index.duplicated(keep="first")]
        cols[str(rid)] = s
    return pd.DataFrame(cols)


def genetic_distance(
    clone_ccf: pd.DataFrame,
    *,
    clones: pd.DataFrame | None = None,
    regions: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Genetic distance between regions from clone CCFs weighted by the clones' mutations.

    Parameters
    ----------
    clone_ccf
        ``clone_id, sample_id, ccf`` (e.g. genomic's ``clones.tsv`` or a virtual patient's
        ``clone_ccf``); ``n_mutations`` is used as the weight when present.
    clones
        ``clone_id, n_mutations`` (the clone tree), used for the weights when given.
    regions
        Regions to keep, in this order (default: all in ``clone_ccf``).

    Returns
    -------
    pandas.DataFrame
        ``region_a, region_b, distance, n_shared`` (``n_shared`` = clones compared).

    Examples
    --------
    >>> import pandas as pd
    >>> ccf = pd.DataFrame({"clone_id": ["C1", "C1", "C2", "C2"],
    ...                     "sample_id": ["R1", "R2", "R1", "R2"], "ccf": [1, 1, 0.8, 0.0]})
    >>> genetic_distance(ccf)["distance"].tolist()
    [0.4]
    """
    for col in ("clone_id", "sample_id", "ccf"):
        if col not in clone_ccf.columns:
            raise InputError(
                f"clone CCF table has no column {col!r}",
                source="clone_ccf",
                fix="give clone_id, sample_id, ccf (genomic clones.tsv)",
            )
    wide = clone_ccf.pivot_table(
        index="clone_id", columns="sample_id", values="ccf", aggfunc="first"
    )
    wide.columns = wide.columns.astype(str)
    if regions is not None:
        missing = [r for r in regions if r not in wide.columns]
        if missing:
            raise InputError(
                f"no clone CCFs for region(s) {', '.join(missing)}",
                source="clone_ccf",
                fix="give the genetic results of the same regions (sample ids = region ids)",
            )
        wide = wide[list(regions)]
    wide = wide.fillna(0.0)
    weights = pd.Series(1.0, index=wide.index)
    wsrc = None
    if clones is not None and "n_mutations" in clones.columns:
        wsrc = clones.drop_duplicates("clone_id").set_index("clone_id")["n_mutations"]
    elif "n_mutations" in clone_ccf.columns:
        wsrc = clone_ccf.drop_duplicates("clone_id").set_index("clone_id")["n_mutations"]
    if wsrc is not None:
        wsrc.index = wsrc.index.astype(str)
        weights = wsrc.reindex(wide.index.astype(str)).fillna(1.0).astype(float)
        weights.index = wide.index
    w = weights.to_numpy()
    if w.sum() <= 0:
        w = np.ones_like(w)
    x = wide.to_numpy(dtype=float)
    ids = list(wide.columns)
    rows = []
    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            d = float(np.sum(w * np.abs(x[:, i] - x[:, j])) / w.sum())
            rows.append((ids[i], ids[j], d, x.shape[0]))
    return pd.DataFrame(rows, columns=list(DISTANCE_COLUMNS))


def _square(long: pd.DataFrame, ids: list[str]) -> np.ndarray:
    pos = {r: i for i, r in enumerate(ids)}
    m = np.zeros((len(ids), len(ids)))
    for a, b, d in long[["region_a", "region_b", "distance"]].itertuples(index=False):
        m[pos[a], pos[b]] = m[pos[b], pos[a]] = d
    return m


def methylation_ith(
    betas: pd.DataFrame,
    *,
    variable_threshold: float = 0.2,
    min_shared: int = 10,
    clone_ccf: pd.DataFrame | None = None,
    clones: pd.DataFrame | None = None,
    read_level: pd.DataFrame | None = None,
    source: str = "betas",
) -> RegionResult:
    """Methylation heterogeneity across a patient's regions.

    Parameters
    ----------
    betas
        CpGs/probes x regions, beta values in 0..1, NaN where not covered (from
        :func:`region_betas` or :func:`read_beta_matrix`).
    variable_threshold
        A CpG covered in every region is *variably methylated* when its beta range across the
        regions (max - min) is at least this (0.2 by default, a common delta-beta cut-off).
    min_shared
        Fewest shared CpGs for a pairwise distance; fewer is an error.
    clone_ccf, clones
        The genetic clones of the same regions (``clone_id, sample_id, ccf`` and optionally
        ``clone_id, n_mutations``): adds the genetic region tree and the Robinson-Foulds
        distance between the two trees.
    read_level
        A :attr:`ReadLevelResult.summary` with ``sample_id`` = region id: its medians join
        ``regions``.
    source
        Name used in error messages.

    Returns
    -------
    RegionResult
        Per-region table, pairwise distances, one-row summary, trees.

    Examples
    --------
    >>> import pandas as pd
    >>> b = pd.DataFrame({"R1": [0.1, 0.9, 0.5], "R2": [0.1, 0.5, 0.5],
    ...                   "R3": [0.8, 0.9, 0.5]})
    >>> res = methylation_ith(b, min_shared=3)
    >>> res.summary[["n_cpgs_shared", "fraction_variable"]].to_dict("records")
    [{'n_cpgs_shared': 3, 'fraction_variable': 0.6666666666666666}]
    """
    if not 0 < variable_threshold <= 1:
        raise InputError(
            f"variable_threshold is {variable_threshold}",
            source="variable_threshold",
            fix="a beta difference in (0, 1], e.g. 0.2",
        )
    ids = [str(c) for c in betas.columns]
    if len(ids) < 2:
        raise InputError(f"{len(ids)} region(s)", source=source, fix="compare at least two regions")
    x = betas.to_numpy(dtype=float)
    check_beta(x, source=source, columns=ids)
    cov = ~np.isnan(x)
    rows = []
    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            both = cov[:, i] & cov[:, j]
            n = int(both.sum())
            if n < min_shared:
                raise InputError(
                    f"regions {ids[i]} and {ids[j]} share {n} CpGs (fewer than {min_shared})",
                    source=source,
                    fix="give deeper or overlapping data, or lower min_shared",
                )
            rows.append((ids[i], ids[j], float(np.mean(np.abs(x[both, i] - x[both, j]))), n))
    distance = pd.DataFrame(rows, columns=list(DISTANCE_COLUMNS))
    dm = _square(distance, ids)
    tree = neighbor_joining(dm, ids)
    all_cov = cov.all(axis=1)
    shared = x[all_cov]
    frac_var = (
        float(np.mean(shared.max(axis=1) - shared.min(axis=1) >= variable_threshold - 1e-12))
        if shared.shape[0]
        else float("nan")
    )
    with np.errstate(invalid="ignore"):
        means = np.nanmean(np.where(cov, x, np.nan), axis=0)
    regions = pd.DataFrame(
        {
            "region_id": ids,
            "n_cpgs": cov.sum(axis=0).astype(np.int64),
            "mean_methylation": means,
            "mean_distance": dm.sum(axis=1) / (len(ids) - 1),
        }
    )
    if read_level is not None:
        cols = [
            c
            for c in ("median_pdr", "median_epipolymorphism", "median_entropy", "median_mhl")
            if c in read_level.columns
        ]
        rl = read_level[["sample_id", *cols]].rename(columns={"sample_id": "region_id"})
        rl["region_id"] = rl["region_id"].astype(str)
        regions = regions.merge(rl, on="region_id", how="left")
    gtree = gdist = None
    rf = rf_max = None
    if clone_ccf is not None:
        gdist = genetic_distance(clone_ccf, clones=clones, regions=ids)
        gtree = neighbor_joining(_square(gdist, ids), ids)
        rf, rf_max = robinson_foulds(tree, gtree)
    iu = np.triu_indices(len(ids), 1)
    summary = pd.DataFrame(
        [
            {
                "n_regions": len(ids),
                "n_cpgs_shared": int(all_cov.sum()),
                "fraction_variable": frac_var,
                "variable_threshold": float(variable_threshold),
                "distance_mean": float(dm[iu].mean()),
                "distance_max": float(dm[iu].max()),
                "tree_rf": pd.NA if rf is None else int(rf),
                "tree_rf_max": pd.NA if rf_max is None else int(rf_max),
                "tree_rf_normalised": (
                    float("nan") if rf is None or not rf_max else float(rf / rf_max)
                ),
            }
        ],
        columns=list(ITH_COLUMNS),
    )
    summary["tree_rf"] = summary["tree_rf"].astype("Int64")
    summary["tree_rf_max"] = summary["tree_rf_max"].astype("Int64")
    return RegionResult(
        regions=regions,
        distance=distance,
        summary=summary,
        tree=tree,
        genetic_tree=gtree,
        genetic_distance=gdist,
    )
