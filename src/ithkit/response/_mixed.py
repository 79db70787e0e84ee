"""Volumetric response, and per-lesion / mixed response patterns."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

from ithkit.response._prepare import exact

_MIXED_COLS = [
    "patient_id",
    "timepoint",
    "pattern",
    "n_shrinking",
    "n_growing",
    "n_new",
    "heterogeneity_index",
    "range_pct",
]
_VOL_COLS = [
    "patient_id",
    "timepoint",
    "sum_volume_ml",
    "change_from_baseline_pct",
    "change_from_nadir_pct",
    "volumetric_response",
]


def _vol_class(v: Fraction, base: Fraction, nadir: Fraction, pr: Fraction, pd_: Fraction) -> str:
    """PD (>= pd % over the nadir) before CR (0 ml) before PR (<= pr % from baseline)."""
    if nadir > 0 and 100 * (v - nadir) >= pd_ * nadir:
        return "PD"
    if v == 0:
        return "CR"
    if 100 * (v - base) <= pr * base:
        return "PR"
    return "SD"


def volumetric_response(
    lesions: pd.DataFrame,
    lesion_frame: pd.DataFrame,
    *,
    pr_pct: float = -65.0,
    pd_pct: float = 73.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Volumetric response of the target lesions, per lesion and summed per assessment.

    The thresholds compare exactly (fractions): PR when the volume is at least ``-pr_pct`` %
    below baseline, PD when it is at least ``pd_pct`` % above the nadir (smallest earlier
    volume, baseline included), CR at 0 ml, NE when a target volume is missing, SD otherwise.
    New lesions make the overall volumetric response PD, as in RECIST.

    Returns
    -------
    (volumetric, lesion_frame)
        Per-assessment table (empty without volumes) and ``lesion_frame`` with
        ``volume_ml, volume_change_from_baseline_pct, volumetric_response`` added for targets.
    """
    empty = pd.DataFrame(columns=_VOL_COLS)
    if "volume_ml" not in lesions.columns or lesion_frame.empty:
        return empty, lesion_frame
    pr, pd_ = exact(pr_pct), exact(pd_pct)
    targets = lesions[lesions["lesion_class"] == "target"]
    base = targets[targets["timepoint"] == 0]
    if targets["volume_ml"].isna().all() or base["volume_ml"].isna().any():
        return empty, lesion_frame
    rows = []
    per_lesion: dict[tuple[str, str, int], tuple[float, str | None]] = {}
    for pid, part in targets.groupby("patient_id", sort=False):
        ids = list(part.loc[part["timepoint"] == 0, "lesion_id"])
        vol = {(r.lesion_id, r.timepoint): r.volume_ml for r in part.itertuples()}
        b = {lid: exact(vol[(lid, 0)]) for lid in ids}
        b_sum = sum(b.values(), Fraction(0))
        nadir = b_sum
        l_nadir = dict(b)
        all_tps = sorted(lesions.loc[lesions["patient_id"] == pid, "timepoint"].unique())
        new_tps = set(
            lesions.loc[
                (lesions["patient_id"] == pid)
                & (lesions["lesion_class"] == "new")
                & (lesions["status"].fillna("present") != "absent"),
                "timepoint",
            ]
        )
        for tp in all_tps:
            vals = {lid: vol.get((lid, tp)) for lid in ids}
            ok = {lid: exact(v) for lid, v in vals.items() if v is not None and not pd.isna(v)}
            for lid, v in ok.items():
                change = float(100 * (v - b[lid]) / b[lid]) if b[lid] else np.nan
                cls = None if tp == 0 else _vol_class(v, b[lid], l_nadir[lid], pr, pd_)
                per_lesion[(str(pid), str(lid), int(tp))] = (change, cls)
                l_nadir[lid] = min(l_nadir[lid], v)
            if len(ok) < len(ids):
                total = None
                response = None if tp == 0 else "NE"
            else:
                total = sum(ok.values(), Fraction(0))
                response = None if tp == 0 else _vol_class(total, b_sum, nadir, pr, pd_)
            if tp in new_tps and tp:
                response = "PD"
            rows.append(
                (
                    pid,
                    int(tp),
                    float(total) if total is not None else np.nan,
                    float(100 * (total - b_sum) / b_sum) if total is not None and b_sum else np.nan,
                    float(100 * (total - nadir) / nadir)
                    if total is not None and nadir and tp
                    else np.nan,
                    response,
                )
            )
            if total is not None:
                nadir = min(nadir, total)
    keys = list(
        zip(
            lesion_frame["patient_id"].astype(str),
            lesion_frame["lesion_id"].astype(str),
            lesion_frame["timepoint"].astype(int),
            strict=True,
        )
    )
    vol_map = {(r.patient_id, r.lesion_id, r.timepoint): r.volume_ml for r in lesions.itertuples()}
    lesion_frame = lesion_frame.assign(
        volume_ml=[vol_map.get(k, np.nan) for k in keys],
        volume_change_from_baseline_pct=[per_lesion.get(k, (np.nan, None))[0] for k in keys],
        volumetric_response=pd.Series(
            [per_lesion.get(k, (np.nan, None))[1] for k in keys], dtype=object
        ),
    )
    return pd.DataFrame(rows, columns=_VOL_COLS), lesion_frame


def _pattern(n_shrink: int, n_grow: int) -> str:
    if n_shrink and n_grow:
        return "mixed"
    if n_shrink:
        return "homogeneous_response"
    if n_grow:
        return "homogeneous_progression"
    return "stable"


def mixed_response(lesion_frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-assessment pattern of per-lesion responses, for the patient and per organ.

    A target lesion is *shrinking* when it alone meets the PR threshold (>= 30 % below its
    baseline, or gone: lesion response CR/PR) and *growing* when it alone meets the PD
    threshold (>= 20 % and >= 5 mm above its own nadir); a new lesion counts as growing.
    Pattern: ``mixed`` (both), ``homogeneous_response`` (only shrinking),
    ``homogeneous_progression`` (only growing), ``stable`` (neither). The heterogeneity
    index of response is the standard deviation (population, ddof 0) of the target lesions'
    changes from baseline, in percentage points; ``range_pct`` is max - min.

    Returns
    -------
    (mixed, mixed_by_organ)
        ``patient_id, timepoint, pattern, n_shrinking, n_growing, n_new,
        heterogeneity_index, range_pct`` (by organ: with ``organ``).
    """
    if lesion_frame.empty:
        return pd.DataFrame(columns=_MIXED_COLS), pd.DataFrame(columns=[*_MIXED_COLS, "organ"])
    follow = lesion_frame[lesion_frame["timepoint"] > 0]
    cls = follow["lesion_class"].astype(str)
    resp = follow["lesion_response"].astype(object)
    target = (cls == "target").to_numpy()
    flags = pd.DataFrame(
        {
            "patient_id": follow["patient_id"].to_numpy(),
            "timepoint": follow["timepoint"].astype(int).to_numpy(),
            "organ": follow["organ"].to_numpy(),
            "n_shrinking": target & resp.isin(["CR", "PR"]).to_numpy(),
            "n_new": (cls == "new").to_numpy() & (resp == "PD").to_numpy(),
            "change": np.where(target, follow["change_from_baseline_pct"].astype(float), np.nan),
        }
    )
    flags["n_growing"] = (target & (resp == "PD").to_numpy()) | flags["n_new"]

    def summarise(keys: list[str]) -> pd.DataFrame:
        g = flags.groupby(keys, sort=True)
        out = g[["n_shrinking", "n_growing", "n_new"]].sum().astype(int)
        count = g["change"].count()
        out["heterogeneity_index"] = g["change"].std(ddof=0).where(count > 1)
        out["range_pct"] = (g["change"].max() - g["change"].min()).where(count > 1)
        out.insert(0, "pattern", [
            _pattern(a, b) for a, b in zip(out["n_shrinking"], out["n_growing"], strict=True)
        ])  # fmt: skip
        return out.reset_index()

    rows = summarise(["patient_id", "timepoint"])
    organ_rows = summarise(["patient_id", "timepoint", "organ"])
    mixed = rows[_MIXED_COLS]
    by_organ = organ_rows[["patient_id", "timepoint", "organ", *_MIXED_COLS[2:]]]
    return mixed, by_organ
