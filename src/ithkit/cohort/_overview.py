"""The cohort at a glance: distributions of profile scores, cross-modal correlations, gaps."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ithkit._errors import InputError
from ithkit.cohort._tables import PROFILES


@dataclass(frozen=True)
class CohortOverview:
    """Profile scores of a cohort store, summarised.

    Attributes
    ----------
    scores
        Wide table: ``patient_id`` + one column per numeric score (``modality.score``).
    distributions
        Per score: modality, unit, patients measured, mean, SD, median, min, max.
    correlations
        Spearman correlation of every pair of scores from *different* modalities (is genomic
        ITH reflected in imaging ITH?): ``score_a, score_b, n, rho, p``.
    missing
        One row per patient and modality that was not measured (with the reason) or whose
        analysis failed.
    n_patients
        Patients in the ``profiles`` table.
    """

    scores: pd.DataFrame
    distributions: pd.DataFrame
    correlations: pd.DataFrame
    missing: pd.DataFrame
    n_patients: int

    def write(self, folder: str | Path) -> list[Path]:
        """Write ``scores.tsv, distributions.tsv, correlations.tsv, missing.tsv``."""
        from ithkit.io import write_table

        out = Path(folder)
        return [
            write_table(self.scores, out / "scores.tsv"),
            write_table(self.distributions, out / "distributions.tsv"),
            write_table(self.correlations, out / "correlations.tsv"),
            write_table(self.missing, out / "missing.tsv"),
        ]


def overview(store: str | Path, *, min_patients: int = 5) -> CohortOverview:
    """Summarise the ``profiles`` table of a cohort store.

    Parameters
    ----------
    store
        Cohort store written by ``ithkit run``.
    min_patients
        Correlations need at least this many patients measured on both scores.

    Returns
    -------
    CohortOverview

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from ithkit.store import CohortStore
    >>> s = CohortStore(tempfile.mkdtemp() + "/c.duckdb")
    >>> for i in range(6):
    ...     s.write(f"P{i}", {"profiles": pd.DataFrame({"modality": ["genomic", "imaging"],
    ...         "score": ["math", "habitat_shannon_mean"], "value": [str(i), str(i * 2)],
    ...         "unit": ["", "nats"], "source": ["g.tsv", "i.tsv"]})})
    >>> overview(s.path).correlations[["n", "rho"]].values.tolist()
    [[6.0, 1.0]]
    """
    from scipy.stats import spearmanr

    from ithkit.cohort._tables import features_from_store
    from ithkit.store import CohortStore

    wide, _ = features_from_store(store)
    long = CohortStore(store, read_only=True).read(PROFILES)
    long = long.assign(
        feature=long["modality"].astype(str) + "." + long["score"].astype(str),
        patient_id=long["patient_id"].astype(str),
    )
    units = long.drop_duplicates("feature").set_index("feature")["unit"]
    names = [c for c in wide.columns if c != "patient_id"]
    rows = []
    for name in names:
        v = wide[name].dropna()
        rows.append({
            "score": name, "modality": name.split(".", 1)[0],
            "unit": "" if pd.isna(units.get(name, "")) else str(units.get(name, "")),
            "n": int(v.size), "mean": float(v.mean()) if v.size else math.nan,
            "sd": float(v.std(ddof=1)) if v.size > 1 else math.nan,
            "median": float(v.median()) if v.size else math.nan,
            "min": float(v.min()) if v.size else math.nan,
            "max": float(v.max()) if v.size else math.nan,
        })  # fmt: skip
    distributions = pd.DataFrame(rows)
    corr = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if a.split(".", 1)[0] == b.split(".", 1)[0]:
                continue
            both = wide[[a, b]].dropna()
            if len(both) < min_patients or both[a].nunique() < 2 or both[b].nunique() < 2:
                continue
            rho, p = spearmanr(both[a], both[b])
            corr.append({"score_a": a, "score_b": b, "n": float(len(both)),
                         "rho": float(rho), "p": float(p)})  # fmt: skip
    correlations = pd.DataFrame(corr, columns=["score_a", "score_b", "n", "rho", "p"])
    status = long[long["score"].astype(str) == "status"]
    note = status["note"] if "note" in status.columns else pd.Series("", index=status.index)
    missing = pd.DataFrame({
        "patient_id": status["patient_id"], "modality": status["modality"].astype(str),
        "status": status["value"].astype(str), "reason": note.fillna("").astype(str),
    }).sort_values(["modality", "patient_id"], ignore_index=True)  # fmt: skip
    if not names:
        raise InputError(
            "no numeric profile score in the store", source=store,
            fix="run the cohort with 'ithkit run' first",
        )  # fmt: skip
    return CohortOverview(
        scores=wide,
        distributions=distributions,
        correlations=correlations.sort_values("p", ignore_index=True)
        if len(correlations)
        else correlations,
        missing=missing,
        n_patients=int(long["patient_id"].nunique()),
    )


def failed_patients(patients_tsv: str | Path) -> pd.DataFrame:
    """Patients whose run failed, from ``ithkit run``'s ``patients.tsv`` (empty if none)."""
    frame = pd.read_csv(patients_tsv, sep="\t", dtype=str, keep_default_na=False)
    if "status" not in frame.columns:
        return pd.DataFrame(columns=["manifest", "patient_id", "error"])
    return frame.loc[frame["status"] == "failed", ["manifest", "patient_id", "error"]]
