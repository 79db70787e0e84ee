"""Sampling adequacy: what each extra region adds, and what more regions would add."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from ithkit.genomic._ccf import is_present


@dataclass(frozen=True)
class AdequacyResult:
    """Rarefaction of clone and mutation discovery over region subsets.

    Attributes
    ----------
    curve
        ``n_regions, n_subsets, clones_mean, clones_sd, subclonal_mutations_mean,
        false_truncal_mean``: for each number of regions, the mean over subsets of the clones
        detected, the detected mutations that are not clonal in every region of the subset
        (seen as subclonal), and the mutations that look truncal in the subset (clonal in all
        its regions) but are not truncal in the whole tumour ("illusion of clonality").
    clones_asymptote
        Clones expected with unlimited regions (Michaelis-Menten fit of the clone curve), or
        NaN when fewer than three region counts are available.
    next_region_gain
        Expected extra clones from one more region than available.
    one_biopsy_fraction
        Mean fraction of the tumour's clones that a single region detects.
    """

    curve: pd.DataFrame
    clones_asymptote: float
    next_region_gain: float
    one_biopsy_fraction: float

    def summary(self) -> str:
        """One sentence answering "was one biopsy enough?"."""
        pct = 100 * self.one_biopsy_fraction
        text = f"One region detects {pct:.0f}% of the clones on average"
        if np.isfinite(self.next_region_gain):
            text += (
                f"; one more region would add {self.next_region_gain:.2f} clone(s) "
                f"(about {self.clones_asymptote:.1f} clones with unlimited sampling)"
            )
        return text + "."


def sampling_adequacy(
    mutation_ccf: pd.DataFrame,
    assignments: pd.DataFrame,
    classes: pd.Series,
    *,
    max_subsets: int = 200,
    seed: int | None = 0,
) -> AdequacyResult:
    """Rarefaction over subsets of regions.

    A mutation is detected in a region when its CCF interval excludes 0; a clone is detected
    in a subset when any of its mutations is. For each subset size, all subsets are used up
    to ``max_subsets`` (a seeded random sample above that). The clone curve is extrapolated
    with a Michaelis-Menten fit :math:`y = a n / (b + n)`.

    Parameters
    ----------
    mutation_ccf
        From :func:`cancer_cell_fraction`.
    assignments
        ``mutation_id, clone_id`` from :func:`cluster_mutations`.
    classes
        truncal/shared/private per mutation.
    """
    present = is_present(mutation_ccf)
    keys = [mutation_ccf["mutation_id"], mutation_ccf["sample_id"]]
    samples = list(dict.fromkeys(mutation_ccf["sample_id"]))
    matrix = present.groupby(keys).any().unstack(fill_value=False)[samples]
    clonal = (present & mutation_ccf["is_clonal"]).groupby(keys).any().unstack(fill_value=False)
    clonal_matrix = clonal.reindex(index=matrix.index)[samples].to_numpy()
    clone_of = assignments.set_index("mutation_id")["clone_id"].reindex(matrix.index)
    truncal = (classes.reindex(matrix.index) == "truncal").to_numpy()
    codes, _ = pd.factorize(clone_of)
    det = matrix.to_numpy()
    rng = np.random.default_rng(seed)
    rows = []
    s = len(samples)
    for n in range(1, s + 1):
        subsets = list(itertools.combinations(range(s), n))
        if len(subsets) > max_subsets:
            picks = rng.choice(len(subsets), size=max_subsets, replace=False)
            subsets = [subsets[i] for i in sorted(picks)]
        clones, subclonal, false_truncal = [], [], []
        for sub in subsets:
            part = det[:, list(sub)]
            seen = part.any(axis=1)
            looks_truncal = clonal_matrix[:, list(sub)].all(axis=1)
            clones.append(np.unique(codes[seen & (codes >= 0)]).size)
            subclonal.append(int((seen & ~looks_truncal).sum()))
            false_truncal.append(int((looks_truncal & ~truncal).sum()))
        rows.append(
            {
                "n_regions": n,
                "n_subsets": len(subsets),
                "clones_mean": float(np.mean(clones)),
                "clones_sd": float(np.std(clones)),
                "subclonal_mutations_mean": float(np.mean(subclonal)),
                "false_truncal_mean": float(np.mean(false_truncal)),
            }
        )
    curve = pd.DataFrame(rows)
    total_clones = max(int(np.unique(codes[codes >= 0]).size), 1)
    one = float(curve.loc[0, "clones_mean"]) / total_clones
    asymptote, gain = float("nan"), float("nan")
    if s >= 3:
        x = curve["n_regions"].to_numpy(dtype=float)
        y = curve["clones_mean"].to_numpy(dtype=float)
        try:
            (a, b), _ = optimize.curve_fit(
                lambda n, a, b: a * n / (b + n), x, y, p0=(y[-1] * 1.2, 1.0),
                bounds=([0.0, 1e-6], [np.inf, np.inf]), maxfev=10_000,
            )  # fmt: skip
            asymptote = float(max(a, y[-1]))
            gain = float(max(a * (s + 1) / (b + s + 1) - a * s / (b + s), 0.0))
        except (RuntimeError, ValueError):
            pass
    return AdequacyResult(curve, asymptote, gain, one)
