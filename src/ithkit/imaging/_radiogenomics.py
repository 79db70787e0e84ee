"""Radiogenomics: associations between lesion imaging features and the lesion's genomic state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ithkit._errors import InputError

_KEYS = ("patient_id", "lesion_id")


def _is_binary(values: Any) -> bool:
    vals = set(values.dropna().unique().tolist())
    return len(vals) <= 2 and vals <= {0, 1}


def radiogenomics(
    features: Any,
    genomic: Any,
    *,
    feature_columns: Sequence[str] | None = None,
    variables: Sequence[str] | None = None,
    fdr: float = 0.1,
    min_lesions: int = 6,
) -> Any:
    """Test every imaging feature against every genomic variable of the same lesions, with FDR.

    Binary variables (a driver mutation present, a clone present: true/false or 0/1) use the
    two-sided Mann-Whitney U test, effect = difference of medians (carriers minus others) and
    the rank-biserial correlation; continuous variables (subclonal fraction, a clone's cancer
    cell fraction) use Spearman's rank correlation. Lesions are the units; p-values over all
    (feature, variable) pairs are adjusted by Benjamini-Hochberg (``q_value``).

    Parameters
    ----------
    features
        One row per lesion: ``patient_id, lesion_id`` and numeric feature columns (e.g.
        :func:`ithkit.imaging.manifest_features`; a ``timepoint`` column is dropped after
        keeping the baseline rows).
    genomic
        One row per lesion: ``patient_id, lesion_id`` and the genomic variables.
    feature_columns, variables
        Subsets to test (default: every numeric column).
    fdr
        False discovery rate for ``significant`` (0..1).
    min_lesions
        Pairs with fewer matched lesions (or fewer than 3 in either group) are skipped.

    Returns
    -------
    pandas.DataFrame
        ``feature, variable, test, n_lesions, n_carriers, statistic, effect, p_value, q_value,
        significant, summary`` sorted by p-value; ``summary`` reads e.g. "lesions with KRAS
        have lower adc (median difference -0.31)".

    Raises
    ------
    ithkit.InputError
        Missing key columns, no lesion in both tables, an FDR outside 0..1.

    Examples
    --------
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> kras = np.repeat([True, False], 10)
    >>> f = pd.DataFrame({"patient_id": "P", "lesion_id": [f"L{i}" for i in range(20)],
    ...                   "adc": np.where(kras, 0.8, 1.2) + rng.normal(0, 0.05, 20)})
    >>> g = f[["patient_id", "lesion_id"]].assign(KRAS=kras)
    >>> radiogenomics(f, g).loc[0, "summary"]
    'lesions with KRAS have lower adc (median difference -0.373)'
    """
    import pandas as pd
    from scipy import stats

    if not 0 < fdr <= 1:
        raise InputError(f"fdr is {fdr}", source="fdr", fix="a false discovery rate in (0, 1]")
    for name, frame in (("features", features), ("genomic", genomic)):
        missing = [c for c in _KEYS if c not in frame.columns]
        if missing:
            raise InputError(f"{name} table lacks column {missing[0]!r}", source=name,
                             fix="one row per patient_id, lesion_id")  # fmt: skip
    feats = features
    if "timepoint" in feats.columns:
        first = feats.groupby(list(_KEYS))["timepoint"].transform("min")
        feats = feats[feats["timepoint"] == first].drop(columns="timepoint")
    f = feats.assign(**{k: feats[k].astype(str) for k in _KEYS})
    g = genomic.assign(**{k: genomic[k].astype(str) for k in _KEYS})
    merged = f.merge(g, on=list(_KEYS), suffixes=("", "__genomic"))
    if merged.empty:
        raise InputError(
            "no lesion is both imaged and sequenced",
            source="genomic",
            fix="lesion_id must match between the images table and the lesion/region mapping",
        )
    fcols = (
        list(feature_columns)
        if feature_columns is not None
        else [c for c in f.columns if c not in _KEYS and pd.api.types.is_numeric_dtype(f[c])]
    )
    vcols = list(variables) if variables is not None else [
        c for c in g.columns if c not in _KEYS and (
            pd.api.types.is_numeric_dtype(g[c]) or pd.api.types.is_bool_dtype(g[c]))
    ]  # fmt: skip
    rows = []
    for v in vcols:
        vname = v if v in merged.columns and v not in fcols else f"{v}__genomic"
        gv = merged[vname]
        binary = _is_binary(gv)
        for feat in fcols:
            pair = pd.DataFrame({"x": pd.to_numeric(merged[feat], errors="coerce"),
                                 "g": gv}).dropna()  # fmt: skip
            if len(pair) < min_lesions:
                continue
            if binary:
                carrier = pair["g"].astype(bool).to_numpy()
                a, b = pair["x"].to_numpy()[carrier], pair["x"].to_numpy()[~carrier]
                if len(a) < 3 or len(b) < 3:
                    continue
                u, p = stats.mannwhitneyu(a, b, alternative="two-sided")
                effect = float(np.median(a) - np.median(b))
                stat = float(2 * u / (len(a) * len(b)) - 1)  # rank-biserial
                word = "higher" if effect > 0 else "lower"
                summary = f"lesions with {v} have {word} {feat} (median difference {effect:.3g})"
                rows.append((feat, v, "mann_whitney", len(pair), int(carrier.sum()), stat,
                             effect, float(p), summary))  # fmt: skip
            else:
                if pair["x"].nunique() < 2 or pair["g"].nunique() < 2:
                    continue
                res = stats.spearmanr(pair["x"], pair["g"].astype(float))
                rho, p = float(res.statistic), float(res.pvalue)
                word = "higher" if rho > 0 else "lower"
                summary = f"lesions with higher {v} have {word} {feat} (Spearman rho {rho:.2f})"
                rows.append((feat, v, "spearman", len(pair), 0, rho, rho, p, summary))
    cols = ["feature", "variable", "test", "n_lesions", "n_carriers", "statistic", "effect",
            "p_value", "summary"]  # fmt: skip
    out = pd.DataFrame(rows, columns=cols)
    if out.empty:
        out["q_value"] = pd.Series(dtype=float)
        out["significant"] = pd.Series(dtype=bool)
    else:
        out["q_value"] = stats.false_discovery_control(out["p_value"].to_numpy(), method="bh")
        out["significant"] = out["q_value"] <= fdr
    order = ["feature", "variable", "test", "n_lesions", "n_carriers", "statistic", "effect",
             "p_value", "q_value", "significant", "summary"]  # fmt: skip
    return out[order].sort_values("p_value", kind="stable").reset_index(drop=True)
