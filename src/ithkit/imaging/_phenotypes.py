"""Lesion phenotypes (interlesional heterogeneity): features -> standardise -> (ComBat) ->
hierarchical clustering, bootstrap stability, per-patient heterogeneity score."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ithkit._errors import InputError
from ithkit.imaging._preprocess import FeatureConfig

KEY = ("patient_id", "lesion_id", "timepoint")


def combat(
    x: NDArray[np.float64], batch: Sequence[Any], *, prior_variance_ddof: int = 1
) -> NDArray[np.float64]:
    """Parametric empirical-Bayes ComBat (Johnson et al., Biostatistics 2007), no covariates.

    ``x`` is (lesions, features); each batch's location and scale per feature are shrunk
    towards the across-feature prior and removed.

    Parameters
    ----------
    x
        Values, lesions x features.
    batch
        Batch (scanner, site) of each lesion.
    prior_variance_ddof
        Degrees of freedom of the prior variance of the batch means: 1 as Bioconductor sva's
        ``ComBat`` (the reference implementation, ``rowVars``), 0 as ``scanpy.pp.combat``. With
        0 the result equals scanpy's to ~1e-5 (``tests/imaging/test_phenotypes.py``).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.r_[np.random.default_rng(0).normal(0, 1, (20, 3)),
    ...           np.random.default_rng(1).normal(5, 1, (20, 3))]
    >>> y = combat(x, ["a"] * 20 + ["b"] * 20)
    >>> bool(abs(y[:20].mean() - y[20:].mean()) < 0.5)
    True
    """
    b = np.asarray([str(v) for v in batch])
    levels = sorted(set(b))
    if len(levels) < 2:
        return x.copy()
    n, _ = x.shape
    grand = x.mean(axis=0)
    resid_var = np.zeros(x.shape[1])
    for lv in levels:
        xs = x[b == lv]
        resid_var += ((xs - xs.mean(axis=0)) ** 2).sum(axis=0)
    sd = np.sqrt(resid_var / n)
    sd = np.where(sd > 0, sd, 1.0)
    z = (x - grand) / sd
    out = np.empty_like(z)
    for lv in levels:
        sel = b == lv
        zs = z[sel]
        nb = zs.shape[0]
        gamma_hat = zs.mean(axis=0)
        delta_hat = zs.var(axis=0, ddof=1) if nb > 1 else np.ones(z.shape[1])
        # priors across features
        t2 = gamma_hat.var(ddof=prior_variance_ddof) if gamma_hat.size > 1 else 1.0
        gbar = gamma_hat.mean()
        m, v = delta_hat.mean(), delta_hat.var(ddof=1) if delta_hat.size > 1 else 0.0
        lam = (m**2 + 2 * v) / v if v > 0 else 1e6
        theta = (m**3 + m * v) / v if v > 0 else m * 1e6
        gamma, delta = gamma_hat.copy(), delta_hat.copy()
        for _ in range(50):  # iterate the conditional posterior means
            g_new = (t2 * nb * gamma_hat + delta * gbar) / (t2 * nb + delta)
            ssq = ((zs - g_new) ** 2).sum(axis=0)
            d_new = (theta + 0.5 * ssq) / (nb / 2 + lam - 1)
            done = np.max(np.abs(g_new - gamma)) < 1e-6 and np.max(np.abs(d_new - delta)) < 1e-6
            gamma, delta = g_new, d_new
            if done:
                break
        out[sel] = (zs - gamma) / np.sqrt(np.where(delta > 0, delta, 1.0))
    return out * sd + grand


@dataclass(frozen=True)
class PhenotypeResult:
    """Lesion phenotypes.

    Attributes
    ----------
    assignments
        DataFrame ``patient_id, lesion_id, timepoint, phenotype``.
    stability
        DataFrame ``phenotype, n_lesions, jaccard`` (mean bootstrap Jaccard, Hennig 2007).
    patients
        DataFrame ``patient_id, n_lesions, n_phenotypes, heterogeneity`` where heterogeneity is
        the mean pairwise Euclidean distance of the patient's lesions in standardised feature
        space divided by sqrt(number of features) (0 = identical lesions).
    linkage
        scipy linkage matrix (Ward) for the dendrogram.
    matrix
        DataFrame of the standardised (and harmonised) features, lesions x features.
    selection
        DataFrame ``k, silhouette`` (k chosen by the highest silhouette unless given).
    """

    assignments: Any
    stability: Any
    patients: Any
    linkage: Any
    matrix: Any
    selection: Any


def lesion_phenotypes(
    features: Any,
    *,
    k: int | None = None,
    k_range: Sequence[int] = (2, 3, 4, 5, 6),
    batch: str | None = None,
    variance: float = 0.8,
    n_bootstrap: int = 50,
    seed: int = 0,
) -> PhenotypeResult:
    """Cluster lesions into phenotypes from a wide feature table.

    Parameters
    ----------
    features
        DataFrame with ``patient_id, lesion_id, timepoint`` (optional ``batch`` column) and one
        numeric column per feature; constant or non-finite columns are dropped.
    k, k_range
        Number of phenotypes, or candidates for the silhouette criterion.
    batch
        Column naming the scanner/site for ComBat harmonisation (None: no harmonisation).
    variance
        Lesions are clustered on the leading principal components of the standardised
        features that explain this fraction of the variance (radiomic features are highly
        correlated; 1.0 keeps every component).
    n_bootstrap
        Bootstrap resamples for cluster stability.
    seed
        Random seed.
    """
    import pandas as pd
    from scipy.cluster.hierarchy import fcluster, linkage

    from ithkit._clustering import choose_k_by_silhouette

    missing = [c for c in KEY if c not in features.columns]
    if missing:
        raise InputError(f"column {missing[0]!r} missing", source="features")
    if batch is not None and batch not in features.columns:
        raise InputError(f"batch column {batch!r} missing", source="features")
    skip = set(KEY) | ({batch} if batch else set())
    num = features.drop(columns=list(skip)).apply(pd.to_numeric, errors="coerce")
    num = num.loc[:, num.notna().all() & (num.std() > 0)]
    if len(features) < 3 or num.shape[1] == 0:
        raise InputError(
            "need >= 3 lesions and >= 1 varying feature to find phenotypes", source="features"
        )
    x = num.to_numpy(dtype=float)
    if batch is not None:
        x = combat(x, features[batch].tolist())
    zfull = (x - x.mean(axis=0)) / x.std(axis=0)
    u, s, _ = np.linalg.svd(zfull, full_matrices=False)
    explained = np.cumsum(s**2) / np.sum(s**2)
    n_pc = int(np.searchsorted(explained, min(variance, 1.0) - 1e-12) + 1)
    z = u[:, :n_pc] * s[:n_pc]
    link = linkage(z, method="ward")
    n = z.shape[0]
    cands = [k] if k is not None else [c for c in k_range if 2 <= c < n]
    choice = choose_k_by_silhouette(
        z, cands, lambda c: np.asarray(fcluster(link, c, criterion="maxclust"))
    )
    rows = choice.table.to_dict("records")
    k_best = choice.k if choice.k is not None else 1
    labels = fcluster(link, k_best, criterion="maxclust")
    # bootstrap stability: best Jaccard of each cluster with the clusters of a resample
    rng = np.random.default_rng(seed)
    jac = np.zeros((n_bootstrap, k_best))
    for bi in range(n_bootstrap):
        idx = np.unique(rng.integers(0, n, n))
        if idx.size <= k_best:
            jac[bi] = np.nan
            continue
        lb = fcluster(linkage(z[idx], method="ward"), k_best, criterion="maxclust")
        for c in range(1, k_best + 1):
            orig = set(idx[labels[idx] == c].tolist())
            if not orig:
                jac[bi, c - 1] = np.nan
                continue
            jac[bi, c - 1] = max(
                len(orig & (other := set(idx[lb == d].tolist()))) / len(orig | other)
                for d in range(1, k_best + 1)
            )
    stability = pd.DataFrame(
        {
            "phenotype": np.arange(1, k_best + 1),
            "n_lesions": np.bincount(labels, minlength=k_best + 1)[1:],
            "jaccard": np.nanmean(jac, axis=0) if n_bootstrap else np.nan,
        }
    )
    assign = features[list(KEY)].copy().reset_index(drop=True)
    assign["phenotype"] = labels
    prow = []
    for pid, grp in assign.groupby("patient_id", sort=True):
        zi = zfull[grp.index.to_numpy()]
        if len(zi) > 1:
            d = np.linalg.norm(zi[:, None] - zi[None, :], axis=2)
            het = float(d[np.triu_indices(len(zi), 1)].mean() / np.sqrt(zfull.shape[1]))
        else:
            het = 0.0
        prow.append(
            {
                "patient_id": str(pid),
                "n_lesions": len(grp),
                "n_phenotypes": int(grp["phenotype"].nunique()),
                "heterogeneity": het,
            }
        )
    matrix = pd.DataFrame(zfull, columns=num.columns)
    matrix.index = [f"{a}/{b}/{c}" for a, b, c in assign[list(KEY)].itertuples(index=False)]
    return PhenotypeResult(
        assignments=assign,
        stability=stability,
        patients=pd.DataFrame(prow),
        linkage=link,
        matrix=matrix,
        selection=pd.DataFrame(rows),
    )


def manifest_features(
    manifest: str | Path,
    *,
    config: FeatureConfig | None = None,
    timepoint: int | None = 0,
    families: tuple[str, ...] | None = None,
    show_progress: bool = False,
    keep: Sequence[str] = (),
    suv: bool | str = True,
) -> Any:
    """Wide feature table (one row per lesion) for an image manifest (``ithkit.schema.IMAGES``).

    Columns: ``patient_id, lesion_id, timepoint`` then ``family:feature:aggregation``; also
    ``volume_ml`` (mesh volume) and the manifest columns named in ``keep`` (e.g. a batch
    column). Only rows of ``timepoint`` (None: all). The default config
    (3D aggregations, fixed bin size 25 — CT in HU) keeps absolute intensities comparable
    between lesions; pass a config for MR or PET. ``suv``: the SUV of PET DICOM series
    (:func:`ithkit.imaging.read_image`).
    """
    import pandas as pd

    from ithkit._progress import progress
    from ithkit.imaging._extract import extract_features
    from ithkit.imaging._io import read_image
    from ithkit.io import read_image_manifest

    frame = read_image_manifest(manifest, keep=keep)
    if timepoint is not None:
        frame = frame[frame["timepoint"] == timepoint]
    if frame.empty:
        raise InputError(f"no image rows at timepoint {timepoint}", source=manifest)
    cfg = config or FeatureConfig(
        aggregation=("none", "3d_merged", "3d"),
        discretisation={"method": "fixed_bin_size", "value": 25},
    )
    rows = []
    with progress(show_progress, "lesion features", len(frame)) as advance:
        for r in frame.itertuples(index=False):
            label = None if pd.isna(r.label) else int(r.label)
            t = extract_features(read_image(r.image, suv=suv), r.mask, label=label, config=cfg)
            if families is not None:
                t = t[t["family"].isin(families)]
            row = {"patient_id": str(r.patient_id), "lesion_id": str(r.lesion_id),
                   "timepoint": int(r.timepoint)}  # fmt: skip
            row.update({col: str(getattr(r, col)) for col in keep})
            row["volume_ml"] = float(t.loc[t["ibsi_code"] == "RNU0", "value"].sum()) / 1000.0
            for f in t.itertuples(index=False):
                row[f"{f.family}:{f.feature}:{f.aggregation}"] = f.value
            rows.append(row)
            advance()
    return pd.DataFrame(rows)
