"""RECIST 1.1 (Eisenhauer et al. 2009) and iRECIST (Seymour et al. 2017), exactly.

Every measurement is an exact fraction of a millimetre and every threshold is compared in
integers (``10 * S <= 7 * B`` for a 30 % decrease, ``5 * (S - nadir) >= nadir`` for a 20 %
increase), so 21/30 (-30 %) and 25.2/21 (+20 %) land on the threshold, as the rules intend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ithkit._errors import InputError
from ithkit.response._prepare import OnViolation, exact, prepare_lesions, selection_notes

Criteria = Literal["recist1.1", "irecist"]
AfterCR = Literal["pd", "measure"]

RESPONSE_CODES = ("CR", "PR", "SD", "PD", "NE", "NON_CR_NON_PD")
IRECIST_CODES = ("iCR", "iPR", "iSD", "iUPD", "iCPD", "NE", "NON_iCR_NON_iUPD")
_I = {"CR": "iCR", "PR": "iPR", "SD": "iSD", "NE": "NE", "NON_CR_NON_PD": "NON_iCR_NON_iUPD"}
_BASE = {
    "iCR": "CR",
    "iPR": "PR",
    "iSD": "SD",
    "NON_iCR_NON_iUPD": "NON_CR_NON_PD",
    "iUPD": "PD",
    "iCPD": "PD",
}
_RANK = {"CR": 5, "PR": 4, "SD": 3, "NON_CR_NON_PD": 3, "iUPD": 2, "PD": 1, "iCPD": 1, "NE": 0}

TIMEPOINT_COLUMNS = (
    "patient_id",
    "timepoint",
    "sum_diameters_mm",
    "change_from_baseline_pct",
    "change_from_nadir_pct",
    "target_response",
    "non_target_response",
    "new_lesions",
    "overall_response",
)
BEST_COLUMNS = ("patient_id", "best_overall_response", "confirmed")
LESION_COLUMNS = (
    "patient_id",
    "lesion_id",
    "timepoint",
    "change_from_baseline_pct",
    "lesion_response",
)
MIXED_COLUMNS = ("patient_id", "timepoint", "pattern")
PATTERNS = ("homogeneous_response", "homogeneous_progression", "mixed", "stable")


@dataclass(frozen=True)
class RecistResult:
    """Response assessment of one or more patients.

    Attributes
    ----------
    timepoints
        One row per patient and assessment: the columns of ``timepoints.tsv`` plus ``date``,
        ``n_targets``, ``n_targets_measured``, ``n_new_lesions`` and ``recist_response`` (the
        RECIST 1.1 overall response, equal to ``overall_response`` unless iRECIST is used).
        Percentages are of the baseline sum and of the nadir (the smallest sum before this
        assessment, baseline included).
    best_response
        ``patient_id, best_overall_response, confirmed, best_timepoint, criteria``.
    lesions
        Per lesion and assessment: ``patient_id, lesion_id, timepoint, organ, lesion_class,
        is_lymph_node, diameter_mm, change_from_baseline_pct, change_from_nadir_pct,
        lesion_response`` (+ ``volume_ml, volume_change_from_baseline_pct,
        volumetric_response`` when volumes are given).
    mixed
        Per follow-up assessment: ``patient_id, timepoint, pattern, n_shrinking, n_growing,
        n_new, heterogeneity_index`` (standard deviation of the per-lesion changes from
        baseline, percentage points) and ``range_pct``.
    mixed_by_organ
        The same per organ.
    volumetric
        Per assessment: ``patient_id, timepoint, sum_volume_ml, change_from_baseline_pct,
        change_from_nadir_pct, volumetric_response``; empty without volumes.
    criteria
        ``recist1.1`` or ``irecist``.
    notes
        RECIST selection rules the input breaks, and other caveats.
    """

    timepoints: pd.DataFrame
    best_response: pd.DataFrame
    lesions: pd.DataFrame
    mixed: pd.DataFrame
    mixed_by_organ: pd.DataFrame
    volumetric: pd.DataFrame
    criteria: str
    notes: tuple[str, ...] = field(default=())

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``timepoints.tsv, best_response.tsv, lesions.tsv, mixed.tsv`` (the columns
        of the interface) and the detailed ``lesion_detail.tsv, mixed_detail.tsv,
        mixed_by_organ.tsv, volumetric.tsv``; returns name -> path."""
        from ithkit.io import write_table

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "timepoints": (self.timepoints[list(TIMEPOINT_COLUMNS)], "timepoints.tsv"),
            "best_response": (self.best_response[list(BEST_COLUMNS)], "best_response.tsv"),
            "lesions": (self.lesions[list(LESION_COLUMNS)], "lesions.tsv"),
            "mixed": (self.mixed[list(MIXED_COLUMNS)], "mixed.tsv"),
            "lesion_detail": (self.lesions, "lesion_detail.tsv"),
            "mixed_detail": (self.mixed, "mixed_detail.tsv"),
            "mixed_by_organ": (self.mixed_by_organ, "mixed_by_organ.tsv"),
            "volumetric": (self.volumetric, "volumetric.tsv"),
        }
        return {k: write_table(frame, out / name) for k, (frame, name) in files.items()}


# ---------------------------------------------------------------------------------------------
# one patient


@dataclass
class _Tp:
    timepoint: int
    date: Any
    sum_mm: Fraction | None  # full sum (None if a target is missing)
    partial_mm: Fraction  # sum of the measured targets
    n_measured: int
    target: str | None
    non_target: str | None
    n_new: int
    new_sum_mm: Fraction
    overall: str | None
    change_base: float
    change_nadir: float


def _value(row: Any) -> Fraction | None:
    """A target's diameter: measured; 0 if absent; 5 mm if present but too small; else None."""
    if row is None:
        return None
    d = row.diameter_mm
    if not pd.isna(d):
        return exact(float(d))
    status = row.status
    if not pd.isna(status) and status == "absent":
        return Fraction(0)
    if not pd.isna(status) and status == "present":
        return Fraction(5)  # RECIST 1.1 appendix: too small to measure -> 5 mm
    return None


def _meets_pd(total: Fraction, nadir: Fraction) -> bool:
    """>= 20 % above the nadir AND >= 5 mm absolute (RECIST 1.1, section 4.3.1)."""
    increase = total - nadir
    return 5 * increase >= nadir and increase >= 5


def _non_target(rows: list[Any]) -> str | None:
    """Non-target response (RECIST 1.1, section 4.3.2) from statuses (and node short axes)."""
    if not rows:
        return None
    states = []
    for row in rows:
        status = None if row is None or pd.isna(row.status) else str(row.status)
        d = None if row is None or pd.isna(row.diameter_mm) else float(row.diameter_mm)
        if status is None and d is not None:
            status = "absent" if d == 0 else "present"
        if status == "present" and row.is_lymph_node and d is not None and d < 10:
            status = "absent"  # a node < 10 mm short axis is normal
        states.append(status)
    if "unequivocal_progression" in states:
        return "PD"
    if None in states:
        return "NE"
    if all(s == "absent" for s in states):
        return "CR"
    return "NON_CR_NON_PD"


def _overall(target: str | None, non_target: str | None, new: bool) -> str:
    """Overall response: RECIST 1.1 table 1 (targets) or table 2 (non-targets only)."""
    if target == "PD" or non_target == "PD" or new:
        return "PD"
    if target is None:  # no target lesions: table 2
        if non_target is None:
            return "NE"
        return non_target
    if target == "CR":
        return "CR" if non_target in (None, "CR") else "PR"
    return target  # PR, SD or NE (non-target non-PD or NE does not change them)


def _patient(part: pd.DataFrame, *, after_cr: AfterCR) -> tuple[list[_Tp], list[dict[str, Any]]]:
    tps = sorted(int(t) for t in part["timepoint"].unique())
    base = part[part["timepoint"] == 0]
    targets = base[base["lesion_class"] == "target"]
    non_targets = base[base["lesion_class"] == "non_target"]
    node_of = dict(zip(part["lesion_id"], part["is_lymph_node"], strict=True))
    rows: dict[tuple[str, int], Any] = {}
    by_tp: dict[int, list[Any]] = {}
    for r in part.itertuples():
        rows[(r.lesion_id, r.timepoint)] = r
        by_tp.setdefault(int(r.timepoint), []).append(r)
    dates = part.groupby("timepoint")["date"].first() if "date" in part.columns else None
    target_ids = list(targets["lesion_id"])
    baseline = {lid: _value(rows[(lid, 0)]) for lid in target_ids}
    b_sum = sum((v for v in baseline.values() if v is not None), Fraction(0))
    nadir = b_sum
    lesion_nadir = dict(baseline)
    had_cr = False
    out: list[_Tp] = []
    lesion_rows: list[dict[str, Any]] = []
    for tp in tps:
        vals = {lid: _value(rows.get((lid, tp))) for lid in target_ids}
        measured = [v for v in vals.values() if v is not None]
        partial = sum(measured, Fraction(0))
        complete = len(measured) == len(target_ids)
        total = partial if complete else None
        new_rows = [r for r in by_tp[tp] if r.lesion_class == "new"]
        present_new = [
            r
            for r in new_rows
            if not ((not pd.isna(r.status) and r.status == "absent") or r.diameter_mm == 0)
        ]
        new_sum = sum(
            (exact(r.diameter_mm) for r in present_new if not pd.isna(r.diameter_mm)), Fraction(0)
        )
        target: str | None = None
        non_target: str | None = None
        overall: str | None = None
        if tp > 0:
            if target_ids:
                nonnodal_back = any(
                    v is not None and v > 0 for lid, v in vals.items() if not node_of[lid]
                )
                if _meets_pd(partial, nadir):
                    target = "PD"  # PD first; a partial sum that meets PD is PD (section 4.3.1)
                elif after_cr == "pd" and had_cr and nonnodal_back:
                    target = "PD"  # a lesion reappearing after CR
                elif not complete:
                    target = "NE"  # a target not assessed
                elif all(
                    (v < 10) if node_of[lid] else (v == 0)
                    for lid, v in vals.items()
                    if v is not None
                ):
                    target = "CR"  # non-nodal gone, nodes < 10 mm short axis
                elif 10 * partial <= 7 * b_sum:
                    target = "PR"  # >= 30 % decrease from baseline
                else:
                    target = "SD"
                had_cr = had_cr or target == "CR"
            nt_rows = [rows.get((lid, tp)) for lid in non_targets["lesion_id"]]
            non_target = _non_target(nt_rows)
            overall = _overall(target, non_target, bool(present_new))
        change_base = (
            float(100 * (total - b_sum) / b_sum) if total is not None and b_sum else np.nan
        )
        change_nadir = (
            float(100 * (total - nadir) / nadir) if total is not None and nadir and tp else np.nan
        )
        out.append(
            _Tp(
                tp,
                None if dates is None else dates.get(tp),
                total,
                partial,
                len(measured),
                target,
                non_target,
                len(present_new),
                new_sum,
                overall,
                change_base,
                change_nadir,
            )
        )
        lesion_rows += _lesion_rows(by_tp[tp], tp, rows, baseline, lesion_nadir, node_of)
        if total is not None:
            nadir = min(nadir, total)
        for lid, v in vals.items():
            if v is not None and lesion_nadir[lid] is not None:
                lesion_nadir[lid] = min(lesion_nadir[lid], v)
    return out, lesion_rows


def _lesion_rows(
    current: list[Any],
    tp: int,
    rows: dict[tuple[str, int], Any],
    baseline: dict[str, Fraction | None],
    lesion_nadir: dict[str, Fraction | None],
    node_of: dict[str, bool],
) -> list[dict[str, Any]]:
    """Per-lesion change and response, with the RECIST thresholds applied to one lesion."""
    out = []
    for r in current:
        lid = r.lesion_id
        cls = str(r.lesion_class)
        change_b = change_n = np.nan
        response: str | None = None
        if cls == "target":
            v = _value(r)
            b = baseline[lid]
            nad = lesion_nadir[lid]
            if v is not None and b:
                change_b = float(100 * (v - b) / b)
            if v is not None and nad and tp:
                change_n = float(100 * (v - nad) / nad)
            if tp == 0:
                response = None
            elif v is None:
                response = "NE"
            elif nad is not None and _meets_pd(v, nad):
                response = "PD"
            elif (v < 10) if node_of[lid] else (v == 0):
                response = "CR"
            elif b is not None and 10 * v <= 7 * b:
                response = "PR"
            else:
                response = "SD"
        elif cls == "non_target":
            if tp:
                response = _non_target([r])
            d0 = rows.get((lid, 0))
            ok = d0 is not None and not pd.isna(d0.diameter_mm) and d0.diameter_mm > 0
            if ok and d0 is not None and not pd.isna(r.diameter_mm):
                change_b = 100 * (float(r.diameter_mm) / float(d0.diameter_mm) - 1)
        else:
            absent = (not pd.isna(r.status) and r.status == "absent") or r.diameter_mm == 0
            response = "CR" if absent else "PD"
        out.append(
            {
                "patient_id": r.patient_id,
                "lesion_id": lid,
                "timepoint": tp,
                "organ": r.organ,
                "lesion_class": cls,
                "is_lymph_node": bool(r.is_lymph_node),
                "diameter_mm": r.diameter_mm,
                "change_from_baseline_pct": change_b,
                "change_from_nadir_pct": change_n,
                "lesion_response": response,
            }
        )
    return out


def _irecist(tps: list[_Tp]) -> list[str | None]:
    """iRECIST overall responses (Seymour et al. 2017, Lancet Oncol 18:e143).

    RECIST 1.1 PD becomes iUPD; the next assessment confirms it (iCPD) when the category that
    progressed grows further (target sum +5 mm over the iUPD sum, more or larger new lesions:
    +5 mm in their summed diameters, non-target unequivocal progression again) or another
    category now progresses. Otherwise the assessment is iUPD again if RECIST PD criteria are
    still met, else iCR/iPR/iSD by the usual rules; a later PD is a new iUPD (the bar resets).
    """
    codes: list[str | None] = []
    pending: _Tp | None = None
    reasons: set[str] = set()
    confirmed = False
    for tp in tps:
        if tp.overall is None:
            codes.append(None)
            continue
        if confirmed:
            codes.append("iCPD")
            continue
        if pending is not None:
            further = False
            if "target" in reasons:
                further |= tp.partial_mm - pending.partial_mm >= 5
            else:
                further |= tp.target == "PD"
            further |= tp.non_target == "PD"
            if "new" in reasons:
                further |= tp.n_new > pending.n_new or tp.new_sum_mm - pending.new_sum_mm >= 5
            else:
                further |= tp.n_new > 0
            if further:
                confirmed = True
                codes.append("iCPD")
            elif tp.overall == "PD":
                codes.append("iUPD")
            elif tp.overall == "NE":
                codes.append("NE")  # not evaluable: confirmation waits for the next assessment
            else:
                pending = None
                codes.append(_I[tp.overall])
            continue
        if tp.overall == "PD":
            pending = tp
            reasons = set()
            if tp.target == "PD":
                reasons.add("target")
            if tp.non_target == "PD":
                reasons.add("non_target")
            if tp.n_new:
                reasons.add("new")
            codes.append("iUPD")
        else:
            codes.append(_I[tp.overall])
    return codes


# ---------------------------------------------------------------------------------------------
# best overall response


def best_overall_response(
    timepoints: pd.DataFrame,
    *,
    confirm: bool = False,
    confirm_days: int = 28,
    sd_min_days: int = 42,
    intervening_sd: bool = False,
    source: str = "timepoints",
) -> pd.DataFrame:
    """Best overall response per patient from timepoint responses (RECIST 1.1 section 4.4).

    Parameters
    ----------
    timepoints
        ``patient_id, timepoint, overall_response`` and ``date`` (needed for confirmation
        and the SD duration); baseline rows (blank response) are skipped.
    confirm
        Require confirmation of CR/PR (non-randomised trials): a CR needs a later CR, a PR a
        later PR or CR, at least ``confirm_days`` later, with no worse assessment in between
        (NE in between is allowed). Unconfirmed CR/PR count as SD when SD lasted long enough.
    confirm_days
        Minimum days between a response and its confirmation (4 weeks).
    sd_min_days
        Minimum days from baseline for SD (protocol-defined; 6 weeks here).
    intervening_sd
        Allow SD between a PR and its confirmation (common practice; RECIST table 3 gives
        "PR SD -> SD").
    source
        Name for error messages.

    Returns
    -------
    pandas.DataFrame
        ``patient_id, best_overall_response, confirmed, best_timepoint, criteria``.
        ``confirmed`` is true when the best response is a CR/PR confirmed as above (reported
        whether or not ``confirm`` is asked); false otherwise.

    Raises
    ------
    ithkit.InputError
        On an unknown response code, or confirmation asked without dates.

    Examples
    --------
    >>> import pandas as pd
    >>> tp = pd.DataFrame({"patient_id": ["P"] * 4, "timepoint": [0, 1, 2, 3],
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-02-26", "2024-04-22",
    ...                                            "2024-06-17"]),
    ...                    "overall_response": [None, "PR", "PR", "PD"]})
    >>> best_overall_response(tp, confirm=True)[["best_overall_response", "confirmed"]].values
    array([['PR', True]], dtype=object)
    """
    for col in ("patient_id", "timepoint", "overall_response"):
        if col not in timepoints.columns:
            raise InputError(f"missing column {col!r}", source=source, fix="give the column")
    known = set(RESPONSE_CODES) | set(IRECIST_CODES)
    codes = timepoints["overall_response"]
    bad = codes.notna() & ~codes.astype(object).isin(known)
    if bad.any():
        i = bad[bad].index[0]
        raise InputError(
            f"unknown response code {codes.loc[i]!r}",
            source=source,
            column="overall_response",
            fix=f"use one of {', '.join(RESPONSE_CODES + IRECIST_CODES[:5])}",
        )
    has_dates = "date" in timepoints.columns and timepoints["date"].notna().all()
    if confirm and not has_dates:
        raise InputError(
            "confirmation of CR/PR needs the date of every assessment",
            source=source,
            column="date",
            fix="fill the date column, or assess without confirmation",
        )
    rows = []
    for pid, part in timepoints.sort_values("timepoint").groupby("patient_id", sort=False):
        base_date = part["date"].iloc[0] if has_dates else None
        seq = [
            (int(t), str(c), d)
            for t, c, d in zip(
                part["timepoint"],
                part["overall_response"],
                part["date"] if has_dates else [None] * len(part),
                strict=True,
            )
            if not pd.isna(c)
        ]
        irecist = any(c in IRECIST_CODES and c != "NE" for _, c, _ in seq)
        stop = "iCPD" if irecist else "PD"
        cut = []
        for item in seq:
            cut.append(item)
            if item[1] == stop:
                break
        rows.append(
            (
                pid,
                *_best(cut, base_date, confirm, confirm_days, sd_min_days, intervening_sd, irecist),
                "irecist" if irecist else "recist1.1",
            )
        )
    return pd.DataFrame(
        rows,
        columns=["patient_id", "best_overall_response", "confirmed", "best_timepoint", "criteria"],
    )


def _best(
    seq: list[tuple[int, str, Any]],
    base_date: Any,
    confirm: bool,
    confirm_days: int,
    sd_min_days: int,
    intervening_sd: bool,
    irecist: bool,
) -> tuple[str, bool, Any]:
    def base(code: str) -> str:
        return _BASE.get(code, code)

    def days(a: Any, b: Any) -> float:
        return float("inf") if a is None or b is None else (b - a).days

    def confirmed_at(i: int, level: str) -> bool:
        ok = {"CR"} if level == "CR" else {"CR", "PR"}
        between = ok | {"NE"} | ({"SD"} if intervening_sd and level == "PR" else set())
        for j in range(i + 1, len(seq)):
            code = base(seq[j][1])
            if seq[j][1] == "iUPD":
                return False
            if code in ok and days(seq[i][2], seq[j][2]) >= confirm_days:
                return True
            if code not in between:
                return False
        return False

    conf = {
        lvl: [
            i
            for i, s in enumerate(seq)
            if base(s[1]) in (("CR",) if lvl == "CR" else ("CR", "PR")) and confirmed_at(i, lvl)
        ]
        for lvl in ("CR", "PR")
    }
    stable = [
        i
        for i, s in enumerate(seq)
        if base(s[1]) in ("CR", "PR", "SD", "NON_CR_NON_PD")
        and days(base_date, s[2]) >= sd_min_days
    ]

    def label(code: str) -> str:
        return _I[code] if irecist and code in _I else code

    if not confirm:
        best_i = None
        for i, (_, code, _) in enumerate(seq):
            b = base(code)
            if b in ("SD", "NON_CR_NON_PD") and i not in stable:
                continue
            rank = _RANK.get(code if code in ("iUPD", "iCPD") else b, 0)
            if best_i is None or rank > _RANK.get(
                seq[best_i][1] if seq[best_i][1] in ("iUPD", "iCPD") else base(seq[best_i][1]), 0
            ):
                best_i = i
        if best_i is None:
            return "NE", False, None
        code = seq[best_i][1]
        b = base(code)
        ok = bool(conf["CR"]) if b == "CR" else (bool(conf["PR"]) if b == "PR" else False)
        return code, ok, seq[best_i][0]
    if conf["CR"]:
        return label("CR"), True, seq[conf["CR"][0]][0]
    if conf["PR"]:
        return label("PR"), True, seq[conf["PR"][0]][0]
    if stable:
        codes = [base(seq[i][1]) for i in stable]
        code = "NON_CR_NON_PD" if all(c == "NON_CR_NON_PD" for c in codes) else "SD"
        return label(code), False, seq[stable[0]][0]
    for want in ("iCPD", "iUPD") if irecist else ("PD",):
        for t, code, _ in seq:
            if code == want:
                return code, False, t
    return "NE", False, None


# ---------------------------------------------------------------------------------------------
# the public entry point


def recist(
    lesions: pd.DataFrame,
    *,
    criteria: Criteria = "recist1.1",
    confirm: bool = False,
    confirm_days: int = 28,
    sd_min_days: int = 42,
    intervening_sd: bool = False,
    after_cr: AfterCR = "pd",
    max_targets: int = 5,
    max_per_organ: int = 2,
    min_measurable_mm: float = 10.0,
    min_node_mm: float = 15.0,
    volume_pr_pct: float = -65.0,
    volume_pd_pct: float = 73.0,
    on_violation: OnViolation = "warn",
    source: str = "lesions",
) -> RecistResult:
    """Assess response by RECIST 1.1 or iRECIST, per lesion, volumetrically and for mixed response.

    Parameters
    ----------
    lesions
        Lesion measurements (:data:`ithkit.schema.LESIONS`): diameters in mm (short axis for
        lymph nodes), ``status`` for non-target and new lesions. A target with a blank
        diameter is *too small to measure* (5 mm) when its status is ``present``, *gone*
        (0 mm) when ``absent`` and *not assessed* otherwise.
    criteria
        ``recist1.1`` (Eisenhauer et al. 2009) or ``irecist`` (Seymour et al. 2017).
    confirm
        Require confirmation of CR/PR for the best overall response (see
        :func:`best_overall_response`).
    confirm_days, sd_min_days, intervening_sd
        Confirmation interval, minimum SD duration from baseline (days), and whether SD may
        come between a PR and its confirmation.
    after_cr
        ``pd`` (default, RECIST 1.1): a non-nodal target reappearing after a target CR is PD.
        ``measure``: apply the sum rules only (PD when the sum grows >= 5 mm from a 0 nadir).
    max_targets, max_per_organ
        RECIST 1.1 target selection limits (5, 2; lymph nodes count as one organ). Breaches
        are reported, not corrected.
    min_measurable_mm, min_node_mm
        Measurability at baseline: 10 mm longest diameter, 15 mm node short axis.
    volume_pr_pct, volume_pd_pct
        Volumetric thresholds: the sphere-volume equivalents of -30 % and +20 % diameter
        (0.7³ - 1 = -65.7 %, 1.2³ - 1 = +72.8 %), rounded to -65 % / +73 %.
    on_violation
        Selection rule breaches: ``warn`` (:class:`RecistWarning`), ``error``
        (:class:`ithkit.InputError`) or ``ignore`` (kept in ``notes`` only).
    source
        Name of the input for messages.

    Returns
    -------
    RecistResult

    Raises
    ------
    ithkit.InputError
        Bad input: see :func:`ithkit.response.prepare_lesions`.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = [("P1", "L1", t, "liver", "target", False, d, None) for t, d in
    ...         [(0, 50.0), (1, 35.0), (2, 42.0)]]
    >>> cols = ["patient_id", "lesion_id", "timepoint", "organ", "lesion_class",
    ...         "is_lymph_node", "diameter_mm", "status"]
    >>> res = recist(pd.DataFrame(rows, columns=cols))
    >>> res.timepoints["overall_response"].tolist()  # -30 % exactly, then +20 % and +7 mm
    [None, 'PR', 'PD']
    """
    if criteria not in ("recist1.1", "irecist"):
        raise InputError(
            f"criteria is {criteria!r}", source="criteria", fix="use 'recist1.1' or 'irecist'"
        )
    for name, value, allowed in (
        ("after_cr", after_cr, ("pd", "measure")),
        ("on_violation", on_violation, ("warn", "error", "ignore")),
    ):
        if value not in allowed:
            raise InputError(
                f"{name} is {value!r}", source=name, fix=f"use one of {', '.join(allowed)}"
            )  # fmt: skip
    frame = prepare_lesions(lesions, source=source)
    notes = selection_notes(
        frame,
        max_targets=max_targets,
        max_per_organ=max_per_organ,
        min_measurable_mm=min_measurable_mm,
        min_node_mm=min_node_mm,
        on_violation=on_violation,
        source=source,
    )
    if "date" not in frame.columns:
        frame = frame.assign(date=pd.NaT)
    if "status" not in frame.columns:
        frame = frame.assign(status=pd.array([pd.NA] * len(frame), dtype="string"))
    tp_rows = []
    lesion_rows: list[dict[str, Any]] = []
    for pid, part in frame.groupby("patient_id", sort=False):
        tps, lrows = _patient(part, after_cr=after_cr)
        lesion_rows += lrows
        icodes = _irecist(tps) if criteria == "irecist" else [t.overall for t in tps]
        n_targets = int(((part["timepoint"] == 0) & (part["lesion_class"] == "target")).sum())
        for tp, code in zip(tps, icodes, strict=True):
            tp_rows.append(
                {
                    "patient_id": pid,
                    "timepoint": tp.timepoint,
                    "date": tp.date,
                    "sum_diameters_mm": float(tp.sum_mm) if tp.sum_mm is not None else np.nan,
                    "change_from_baseline_pct": tp.change_base,
                    "change_from_nadir_pct": tp.change_nadir,
                    "target_response": tp.target,
                    "non_target_response": tp.non_target,
                    "new_lesions": bool(tp.n_new) if tp.timepoint else False,
                    "overall_response": code,
                    "n_targets": n_targets,
                    "n_targets_measured": tp.n_measured,
                    "n_new_lesions": tp.n_new,
                    "recist_response": tp.overall,
                }
            )
    timepoints = pd.DataFrame(tp_rows)
    timepoints["date"] = pd.to_datetime(timepoints["date"])
    for col in ("target_response", "non_target_response", "overall_response", "recist_response"):
        timepoints[col] = timepoints[col].astype(object)
    if confirm or sd_min_days:
        missing = timepoints["date"].isna().any()
        if missing and not confirm:
            notes.append("dates missing: the minimum SD duration was not checked")
    best = best_overall_response(
        timepoints if timepoints["date"].notna().all() else timepoints.drop(columns="date"),
        confirm=confirm,
        confirm_days=confirm_days,
        sd_min_days=sd_min_days,
        intervening_sd=intervening_sd,
        source=source,
    )
    lesion_frame = pd.DataFrame(lesion_rows)
    from ithkit.response._mixed import mixed_response, volumetric_response

    volumetric, lesion_frame = volumetric_response(
        frame, lesion_frame, pr_pct=volume_pr_pct, pd_pct=volume_pd_pct
    )
    mixed, by_organ = mixed_response(lesion_frame)
    return RecistResult(
        timepoints=timepoints,
        best_response=best,
        lesions=lesion_frame,
        mixed=mixed,
        mixed_by_organ=by_organ,
        volumetric=volumetric,
        criteria=criteria,
        notes=tuple(notes),
    )
