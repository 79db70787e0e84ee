"""The patient ITH profile and the cross-modal concordance of one patient.

Every number here is read from an analysis result (the profile rows come from each module's
adapter); this module only gathers them, marks what was not measured, and lines up the
modalities' evidence about the same clone, lesion or date.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ithkit import _names
from ithkit.integrate._analyses import REGISTRY
from ithkit.integrate._types import PatientData, PatientResults

CONCORDANCE_COLUMNS = (
    "patient_id", "check", "subject", "observation", "value", "unit", "concordant", "source",
)  # fmt: skip

# imaging heterogeneity of a lesion in the concordance: IBSI intensity-histogram entropy (TLU2)
LESION_HETEROGENEITY_CODE = "TLU2"
_PLASMA_SOURCES = "liquid/emerging.tsv; genomic/mutation_ccf.tsv"
_LESION_SOURCES = "response/lesion_detail.tsv; imaging/features.tsv"


def patient_profile(data: PatientData, results: PatientResults) -> pd.DataFrame:
    """The patient ITH profile: one row per score, and a ``status`` row per missing modality.

    Parameters
    ----------
    data
        The patient's inputs.
    results
        The outputs of :func:`ithkit.integrate.analyze_patient`.

    Returns
    -------
    pandas.DataFrame
        ``patient_id, modality, score, value, unit, source, note`` (``source`` relative to the
        run folder). A modality that did not run has one row ``score = status``,
        ``value = not_measured`` and the reason in ``note``.
    """
    rows: list[dict[str, Any]] = []
    for spec in REGISTRY:
        output = results.output(spec.name)
        if output is None:
            reason = results.skipped.get(spec.name, spec.reason_missing())
            rows.append({"modality": spec.name, "score": "status", "value": "not_measured",
                         "unit": "", "source": "", "note": reason})  # fmt: skip
            continue
        for s in output.profile:
            rows.append({"modality": spec.name, "score": s.score, "value": s.value,
                         "unit": s.unit, "source": s.source, "note": s.note})  # fmt: skip
    frame = pd.DataFrame(rows, columns=list(_names.PROFILE_COLUMNS[1:]))
    # one column type for numbers and categories (the store's ``profiles.value`` is text;
    # ``TRY_CAST(value AS DOUBLE)`` reads the numbers back)
    frame["value"] = frame["value"].map(_as_text).astype("string")
    frame.insert(0, "patient_id", data.patient_id)
    return frame


def _as_text(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return pd.NA
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value)


def profile_value(profile: pd.DataFrame, modality: str, score: str) -> Any:
    """One value of a profile: a float for numbers, a string for categories, None when the
    score is absent or has no value."""
    hit = profile[(profile["modality"] == modality) & (profile["score"] == score)]
    if not len(hit):
        return None
    v = hit["value"].iloc[0]
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)


def concordance(data: PatientData, results: PatientResults) -> pd.DataFrame:
    """What the modalities say about the same clones, lesions and dates.

    Checks (each only when both modalities were measured):

    - ``plasma_variant_in_tissue``: every emerging resistant variant in plasma (a subclonal
      variant rising from its nadir, ``liquid/emerging.tsv``), with its tissue clone and the
      sequenced regions that hold it ("seen in blood, not in any biopsy": sampling missed it);
    - ``growing_lesion_imaging``: at the last assessment, each target lesion's change and its
      baseline imaging heterogeneity (intensity entropy, IBSI TLU2), and whether the growing
      lesions are the most heterogeneous ones;
    - ``progression_timing``: ctDNA vs RECIST progression dates;
    - ``sampling_adequacy``: clones one more region would add, and clones one region misses.

    Returns
    -------
    pandas.DataFrame
        ``patient_id, check, subject, observation, value, unit, concordant, source``.
    """
    rows: list[dict[str, Any]] = []
    rows += _plasma_in_tissue(results)
    rows += _growing_lesions(results)
    rows += _progression_timing(results)
    rows += _sampling(results)
    frame = pd.DataFrame(rows, columns=list(CONCORDANCE_COLUMNS[1:]))
    frame.insert(0, "patient_id", data.patient_id)
    return frame


def _plasma_in_tissue(results: PatientResults) -> list[dict[str, Any]]:
    liquid, genomic = results.get("liquid"), results.get("genomic")
    if liquid is None or genomic is None:
        return []
    changing = liquid.emerging
    if not len(changing):
        return []
    ccf = genomic.mutation_ccf
    from ithkit.genomic import is_present

    present = ccf[is_present(ccf)]
    regions = present.groupby("mutation_id")["sample_id"].agg(lambda s: sorted(map(str, s)))
    clone = genomic.mutations.set_index("mutation_id")["clone_id"]
    sequenced = set(ccf["mutation_id"].astype(str))
    rows = []
    for first in changing.sort_values(["timepoint", "mutation_id"]).itertuples(index=False):
        mid = str(first.mutation_id)
        where = regions.get(mid, [])
        seen = (f"rising {first.fold:.1f}x from its nadir in plasma at timepoint "
                f"{int(first.timepoint)}")  # fmt: skip
        conc: Any
        if mid not in sequenced:
            obs, conc = f"{mid} {seen}: not in the tissue panel", pd.NA
        elif where:
            obs = f"{mid} ({clone.get(mid, '')}) {seen}; present in regions {', '.join(where)}"
            conc = True
        else:
            obs = f"{mid} ({clone.get(mid, '')}) {seen}; in no sequenced region: sampling missed it"
            conc = False
        rows.append({"check": "plasma_variant_in_tissue", "subject": mid, "observation": obs,
                     "value": float(len(where)), "unit": "regions holding it",
                     "concordant": conc, "source": _PLASMA_SOURCES})  # fmt: skip
    return rows


def _growing_lesions(results: PatientResults) -> list[dict[str, Any]]:
    rec, feats = results.get("response"), results.get("imaging")
    if rec is None or feats is None:
        return []
    les = rec.lesions
    if "change_from_baseline_pct" not in les.columns:
        return []
    last_tp = int(les["timepoint"].max())
    last = les[(les["timepoint"] == last_tp) & les["change_from_baseline_pct"].notna()]
    base_tp = int(feats["timepoint"].min())
    het = feats[(feats["ibsi_code"] == LESION_HETEROGENEITY_CODE)
                & (feats["timepoint"] == base_tp)]  # fmt: skip
    if "aggregation" in het.columns:
        het = het[het["aggregation"].astype(str).isin(["3d", "none"])]
    het = het.groupby("lesion_id")["value"].first()
    joined = last.assign(lesion_id=last["lesion_id"].astype(str))
    joined = joined[joined["lesion_id"].isin(het.index)]
    if len(joined) < 2:
        return []
    joined = joined.assign(entropy=joined["lesion_id"].map(het))
    growing = joined["change_from_baseline_pct"] > 0
    top = joined["entropy"] >= joined["entropy"].median()
    rows = []
    for r in joined.itertuples(index=False):
        grows = r.change_from_baseline_pct > 0
        obs = (f"{r.lesion_id}: {r.change_from_baseline_pct:+.0f}% at timepoint {last_tp}; "
               f"baseline intensity entropy {r.entropy:.2f} bits")  # fmt: skip
        conc: Any = pd.NA
        if growing.any() and (~growing).any():
            conc = bool(grows == (r.entropy >= joined["entropy"].median()))
        rows.append({"check": "growing_lesion_imaging", "subject": str(r.lesion_id),
                     "observation": obs, "value": float(r.change_from_baseline_pct),
                     "unit": "% change from baseline", "concordant": conc,
                     "source": _LESION_SOURCES})  # fmt: skip
    if growing.any() and (~growing).any():
        agree = bool((growing == top).all())
        rows.append({"check": "growing_lesion_imaging", "subject": "patient",
                     "observation": ("the growing lesions are the most heterogeneous at baseline"
                                     if agree else
                                     "growth does not follow baseline imaging heterogeneity"),
                     "value": float(growing.sum()), "unit": "growing lesions",
                     "concordant": agree, "source": _LESION_SOURCES})  # fmt: skip
    return rows


def _progression_timing(results: PatientResults) -> list[dict[str, Any]]:
    liquid = results.output("liquid")
    if liquid is None or _names.LIQUID_LEAD_TIME not in liquid.tables:
        return []
    lead = liquid.tables[_names.LIQUID_LEAD_TIME]
    if not len(lead):
        return []
    r = lead.iloc[0]
    m, c, days = r["molecular_progression_date"], r["recist_progression_date"], r["lead_time_days"]
    if pd.isna(m) and pd.isna(c):
        obs, conc = "neither ctDNA nor RECIST showed progression", True
    elif pd.isna(c):
        obs, conc = f"ctDNA progression on {pd.Timestamp(m).date()}; no RECIST progression", False
    elif pd.isna(m):
        obs, conc = f"RECIST progression on {pd.Timestamp(c).date()}; no ctDNA progression", False
    else:
        obs = (f"ctDNA progression on {pd.Timestamp(m).date()}, RECIST on "
               f"{pd.Timestamp(c).date()} ({int(days)} days lead)")  # fmt: skip
        conc = True
    return [{"check": "progression_timing", "subject": "patient", "observation": obs,
             "value": float(days) if pd.notna(days) else np.nan, "unit": "days",
             "concordant": conc, "source": "liquid/lead_time.tsv"}]  # fmt: skip


def _sampling(results: PatientResults) -> list[dict[str, Any]]:
    genomic = results.get("genomic")
    if genomic is None:
        return []
    a = genomic.adequacy
    if not np.isfinite(a.next_region_gain):
        return []
    return [{"check": "sampling_adequacy", "subject": "patient",
             "observation": a.summary(), "value": float(a.next_region_gain),
             "unit": "clones one more region would add", "concordant": pd.NA,
             "source": "genomic/adequacy.tsv"}]  # fmt: skip
