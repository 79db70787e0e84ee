"""ctDNA series: VAF intervals, detection against the error rate, tumour fraction, response."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ithkit import schema
from ithkit._errors import InputError

Interval = Literal["wilson", "clopper-pearson"]

# Frequent clonal-haematopoiesis genes (Jaiswal et al. 2014 NEJM 371:2488; Razavi et al. 2019
# Nat Med 25:1928). TP53 and KRAS are CHIP genes too but also common tumour drivers: they are
# not flagged by default (add them with ``chip_genes=``).
CHIP_GENES = (
    "DNMT3A",
    "TET2",
    "ASXL1",
    "JAK2",
    "PPM1D",
    "SF3B1",
    "SRSF2",
    "CBL",
    "GNB1",
    "GNAS",
    "IDH2",
    "U2AF1",
    "ZRSR2",
    "BCOR",
    "BCORL1",
    "STAT3",
    "CHEK2",
    "ATM",
)
STATUSES = ("detected", "not_detected", "emerging", "rising", "falling", "cleared")
MOLECULAR = ("baseline", "response", "clearance", "stable", "progression", "not_evaluable")
TIMEPOINT_COLUMNS = ("patient_id", "timepoint", "tumour_fraction", "mean_vaf", "molecular_response")
EMERGING_COLUMNS = ("patient_id", "mutation_id", "gene", "clone_id", "timepoint", "date",
                    "nadir_timepoint", "nadir_vaf", "vaf", "fold", "p")  # fmt: skip
VARIANT_COLUMNS = ("patient_id", "mutation_id", "timepoint", "vaf", "vaf_low", "vaf_high", "status")


def vaf_interval(
    alt: np.ndarray, depth: np.ndarray, *, level: float = 0.95, method: Interval = "wilson"
) -> tuple[np.ndarray, np.ndarray]:
    """Binomial confidence interval of a VAF (alt / depth).

    ``wilson``: the Wilson score interval (Wilson 1927), good coverage at small counts and
    never outside [0, 1]. ``clopper-pearson``: the exact interval from beta quantiles
    (conservative).

    Examples
    --------
    >>> lo, hi = vaf_interval(np.array([0]), np.array([100]), method="clopper-pearson")
    >>> float(lo[0]), round(float(hi[0]), 4)
    (0.0, 0.0362)
    >>> lo, hi = vaf_interval(np.array([50]), np.array([100]))
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.4038, 0.5962)
    """
    a = np.asarray(alt, dtype=float)
    n = np.asarray(depth, dtype=float)
    if method == "clopper-pearson":
        tail = (1 - level) / 2
        lo = np.where(a > 0, stats.beta.ppf(tail, a, n - a + 1), 0.0)
        hi = np.where(a < n, stats.beta.ppf(1 - tail, a + 1, n - a), 1.0)
        return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    if method != "wilson":
        raise InputError(
            f"interval method {method!r}", source="method", fix="use 'wilson' or 'clopper-pearson'"
        )
    z = stats.norm.ppf(1 - (1 - level) / 2)
    p = a / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def detection_p(alt: np.ndarray, depth: np.ndarray, error_rate: np.ndarray) -> np.ndarray:
    """P(X >= alt) for X ~ Binomial(depth, error_rate): the chance that errors alone give
    this many alt reads (one-sided test of detection against the per-site error rate)."""
    a = np.asarray(alt, dtype=float)
    return np.asarray(stats.binom.sf(a - 1, np.asarray(depth), np.asarray(error_rate)))


def limit_of_detection(
    depth: np.ndarray, error_rate: np.ndarray, *, alpha: float = 0.001, power: float = 0.95
) -> np.ndarray:
    """Smallest VAF detected with probability ``power`` by the test at level ``alpha``.

    The critical count k is the least alt count with P(errors >= k) < alpha; the LOD is the
    VAF v with P(Binomial(depth, v(1-e) + (1-v)e) >= k) = power.

    Examples
    --------
    >>> round(float(limit_of_detection(np.array([5000]), np.array([5e-4]))[0]), 5)
    0.00264
    """
    d = np.atleast_1d(np.asarray(depth, dtype=float))
    e = np.broadcast_to(np.asarray(error_rate, dtype=float), d.shape)
    k = stats.binom.isf(alpha, d, e) + 1  # least k with P(errors >= k) <= alpha
    lo, hi = np.zeros_like(d), np.ones_like(d)
    for _ in range(48):  # bisection, vectorised over sites (power rises with the VAF)
        mid = (lo + hi) / 2
        ok = stats.binom.sf(k - 1, d, mid * (1 - e) + (1 - mid) * e) >= power
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    return np.where(k > d, 1.0, hi)


@dataclass(frozen=True)
class LiquidResult:
    """A tracked ctDNA series.

    Attributes
    ----------
    timepoints
        Per patient and draw: ``patient_id, timepoint, date, tumour_fraction,
        tumour_fraction_low, tumour_fraction_high, mean_vaf, change_from_baseline_pct,
        n_detected, n_variants, molecular_response``.
    variants
        Per patient, mutation and draw: ``patient_id, mutation_id, gene, clone_id, timepoint,
        date, alt_counts, depth, vaf, vaf_low, vaf_high, error_rate, p_detect, lod, detected,
        is_chip, is_truncal, status, p_change``. ``vaf`` is blank when not detected (the
        VAF is below ``lod``, reported in ``vaf_high``).
    clones
        Per patient, clone and draw (when clone ids are given): ``patient_id, clone_id,
        timepoint, n_variants, alt_counts, depth, vaf, vaf_low, vaf_high, ccf``.
    progression
        Per patient: ``patient_id, molecular_progression_timepoint, molecular_progression_date,
        trigger`` (``tumour_fraction``: the truncal variants pooled; ``pooled``: every tumour
        variant, when no truncal variant is known), empty values when none.
    emerging
        Emerging resistant variants: per patient and subclonal (not truncal, not CHIP) tumour
        variant that rose from its nadir
        (first such draw) ``patient_id, mutation_id, gene, clone_id, timepoint, date,
        nadir_timepoint, nadir_vaf, vaf, fold, p``. A variant rising while the tumour fraction
        still falls is a resistant clone emerging, not molecular progression.
    """

    timepoints: pd.DataFrame
    variants: pd.DataFrame
    clones: pd.DataFrame
    progression: pd.DataFrame
    emerging: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=EMERGING_COLUMNS))

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """``timepoints.tsv, variants.tsv`` (interface columns) + ``variant_detail.tsv,
        timepoint_detail.tsv, clones.tsv, progression.tsv, emerging.tsv``."""
        from ithkit.io import write_table

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "timepoints": (self.timepoints[list(TIMEPOINT_COLUMNS)], "timepoints.tsv"),
            "variants": (self.variants[list(VARIANT_COLUMNS)], "variants.tsv"),
            "timepoint_detail": (self.timepoints, "timepoint_detail.tsv"),
            "variant_detail": (self.variants, "variant_detail.tsv"),
            "clones": (self.clones, "clones.tsv"),
            "progression": (self.progression, "progression.tsv"),
            "emerging": (self.emerging, "emerging.tsv"),
        }
        return {k: write_table(f, out / name) for k, (f, name) in files.items()}


def _fisher_greater(a1: Any, n1: Any, a0: Any, n0: Any) -> np.ndarray:
    """One-sided p that the VAF a1/n1 exceeds a0/n0 (Fisher's exact test, hypergeometric);
    vectorised."""
    a1, n1, a0, n0 = (np.asarray(x, dtype=np.int64) for x in (a1, n1, a0, n0))
    return np.atleast_1d(np.asarray(stats.hypergeom.sf(a1 - 1, n1 + n0, a1 + a0, n1), dtype=float))


def _error_rates(
    frame: pd.DataFrame, error_rate: float | Mapping[str, float] | pd.DataFrame, source: str
) -> np.ndarray:
    if isinstance(error_rate, pd.DataFrame):
        if not {"mutation_id", "error_rate"} <= set(error_rate.columns):
            raise InputError(
                "the error-rate table needs mutation_id and error_rate columns",
                source="error_rate",
                fix="one row per site: mutation_id, error_rate",
            )
        error_rate = dict(
            zip(
                error_rate["mutation_id"].astype(str),
                error_rate["error_rate"].astype(float),
                strict=True,
            )
        )
    if isinstance(error_rate, Mapping):
        ids = frame["mutation_id"].astype(str)
        missing = sorted(set(ids) - set(error_rate))
        if missing:
            raise InputError(
                f"no error rate for site {missing[0]!r}"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
                source="error_rate",
                fix="give an error rate for every tracked mutation",
            )
        rates = ids.map(error_rate).to_numpy(dtype=float)
    else:
        rates = np.full(len(frame), float(error_rate))
    if not np.all((rates > 0) & (rates < 0.5)):
        raise InputError(
            "error rates must be in (0, 0.5)",
            source="error_rate",
            fix="give per-site background error rates, e.g. 5e-4 (from a panel of normals)",
        )
    return rates


def track_ctdna(
    ctdna: pd.DataFrame,
    *,
    error_rate: float | Mapping[str, float] | pd.DataFrame = 5e-4,
    alpha: float = 0.001,
    interval: Interval = "wilson",
    level: float = 0.95,
    truncal: Sequence[str] | None = None,
    clones: pd.DataFrame | Mapping[str, str] | None = None,
    chip_genes: Sequence[str] = CHIP_GENES,
    response_drop_pct: float = 50.0,
    progression_fold: float = 2.0,
    change_fold: float = 1.5,
    source: str = "ctdna",
) -> LiquidResult:
    """Track a ctDNA series: VAF intervals, detection, tumour fraction, molecular response.

    Parameters
    ----------
    ctdna
        The ctDNA series (:data:`ithkit.schema.CTDNA`); validated here.
    error_rate
        Background error rate per site: one number, a mapping ``mutation_id -> rate`` or a
        table ``mutation_id, error_rate`` (e.g. from a panel of normals).
    alpha
        Level of the detection test (one-sided binomial test of the alt count against the
        site's error rate) and of the change tests.
    interval, level
        VAF interval: ``wilson`` (default) or ``clopper-pearson``, at ``level``.
    truncal
        Mutation ids present in every cancer cell (e.g. ``truncal`` mutations from
        :mod:`ithkit.genomic`). Default: with clone ids, the clone with the highest pooled VAF
        at the first draw; otherwise the non-CHIP variants whose first-draw VAF is at least
        half the highest one (the top VAF cluster).
    clones
        Clone of each mutation (table ``mutation_id, clone_id`` such as the genomic module's
        ``mutations.tsv``, or a mapping); defaults to the series' ``clone_id`` column. A
        ``class`` column (``truncal``/``shared``/``private``) names the truncal mutations.
    chip_genes
        Genes flagged as possible clonal haematopoiesis; their variants are reported but kept
        out of tumour fraction, mean VAF and progression.
    response_drop_pct
        Molecular response: mean tumour VAF at least this % below baseline.
    progression_fold
        Molecular progression: the tumour fraction (truncal variants pooled; every tumour
        variant pooled when none is known to be truncal) at >= this fold of its nadir and
        significantly above it (one-sided Fisher test at ``alpha``). Emerging resistant
        variant: one subclonal tumour variant detected at >= this fold of its own nadir VAF and
        significantly above it (``alpha`` Bonferroni-corrected over the variants), reported in
        ``emerging`` whatever the tumour fraction does.
    change_fold
        ``rising`` / ``falling``: detected at both draws, significantly different from the
        previous draw (Fisher, ``alpha``) and changed by at least this fold.
    source
        Name for error messages.

    Returns
    -------
    LiquidResult

    Notes
    -----
    Tumour fraction = 2 x the pooled VAF (sum of alt reads / sum of depths) of the truncal
    variants, capped at 1: a heterozygous clonal mutation in a copy-neutral region has VAF
    TF / 2. Its interval is the binomial interval of the pooled VAF, doubled. Variant status at
    a draw: ``not_detected``/``detected`` at the first draw; later ``emerging`` (detected,
    never detected before), ``cleared`` (not detected, detected at the previous draw),
    ``rising``/``falling`` (see ``change_fold``), else ``detected``/``not_detected``.
    Molecular response at a draw: ``progression`` (see ``progression_fold``), else
    ``clearance`` (no tumour variant detected, some were at baseline), ``response`` (mean VAF
    >= ``response_drop_pct`` % below baseline), ``stable``; ``baseline`` at the first draw and
    ``not_evaluable`` when nothing was detected at baseline and nothing now.

    Examples
    --------
    >>> from ithkit.evolution import virtual_patient
    >>> res = track_ctdna(virtual_patient(seed=1).ctdna)
    >>> res.timepoints["molecular_response"].iloc[:3].tolist()
    ['baseline', 'stable', 'response']
    """
    frame = schema.validate(_reindexed(ctdna), schema.CTDNA, source=source)
    frame = frame.sort_values(["patient_id", "mutation_id", "timepoint"], kind="stable")
    frame = frame.reset_index(drop=True)
    if "date" not in frame.columns:
        frame["date"] = pd.NaT
    clone_of: dict[str, str] = {}
    if clones is not None:
        if isinstance(clones, pd.DataFrame):
            clone_of = dict(
                zip(clones["mutation_id"].astype(str), clones["clone_id"].astype(str), strict=True)
            )
            if truncal is None and "class" in clones.columns:
                truncal = list(clones.loc[clones["class"] == "truncal", "mutation_id"].astype(str))
        else:
            clone_of = {str(k): str(v) for k, v in clones.items()}
    elif "clone_id" in frame.columns:
        known = frame["clone_id"].notna()
        clone_of = dict(
            zip(
                frame.loc[known, "mutation_id"].astype(str),
                frame.loc[known, "clone_id"].astype(str),
                strict=False,
            )
        )
    frame["clone_id"] = pd.array(
        [clone_of.get(str(m)) for m in frame["mutation_id"]], dtype="string"
    )
    alt = frame["alt_counts"].to_numpy(dtype=float)
    depth = frame["depth"].to_numpy(dtype=float)
    err = _error_rates(frame, error_rate, source)
    vaf = alt / depth
    lo, hi = vaf_interval(alt, depth, level=level, method=interval)
    p_detect = detection_p(alt, depth, err)
    lod = limit_of_detection(depth, err, alpha=alpha)
    detected = p_detect < alpha
    chip = {g.upper() for g in chip_genes}
    frame = frame.assign(
        vaf_observed=vaf,
        vaf=np.where(detected, vaf, np.nan),
        vaf_low=np.where(detected, lo, 0.0),
        vaf_high=np.where(detected, hi, np.maximum(hi, lod)),
        error_rate=err,
        p_detect=p_detect,
        lod=lod,
        detected=detected,
        is_chip=frame["gene"].fillna("").astype(str).str.upper().isin(chip).to_numpy(),
    )
    parts = []
    tp_rows = []
    prog_rows = []
    clone_rows = []
    emerging_rows = []
    for pid, part in frame.groupby("patient_id", sort=False):
        part = _variant_status(part, alpha=alpha, change_fold=change_fold)
        part["is_truncal"] = _truncal(part, truncal)
        rows, prog = _timepoints(
            part,
            alpha=alpha,
            level=level,
            interval=interval,
            drop_pct=response_drop_pct,
            fold=progression_fold,
        )
        tp_rows += rows
        prog_rows.append({"patient_id": pid, **prog})
        emerging_rows += _emerging(part, alpha=alpha, fold=progression_fold)
        if part["clone_id"].notna().any():
            clone_rows += _clone_rows(part, level=level, interval=interval)
        parts.append(part)
    variants = pd.concat(parts, ignore_index=True)
    variants = variants.sort_values(["patient_id", "timepoint", "mutation_id"], kind="stable")
    cols = [
        "patient_id",
        "mutation_id",
        "gene",
        "clone_id",
        "timepoint",
        "date",
        "alt_counts",
        "depth",
        "vaf",
        "vaf_low",
        "vaf_high",
        "error_rate",
        "p_detect",
        "lod",
        "detected",
        "is_chip",
        "is_truncal",
        "status",
        "p_change",
    ]
    return LiquidResult(
        timepoints=pd.DataFrame(tp_rows),
        variants=variants[cols].reset_index(drop=True),
        clones=pd.DataFrame(
            clone_rows,
            columns=[
                "patient_id",
                "clone_id",
                "timepoint",
                "n_variants",
                "alt_counts",
                "depth",
                "vaf",
                "vaf_low",
                "vaf_high",
                "ccf",
            ],
        ),
        progression=pd.DataFrame(prog_rows),
        emerging=pd.DataFrame(emerging_rows, columns=list(EMERGING_COLUMNS)),
    )


def _reindexed(frame: pd.DataFrame) -> pd.DataFrame:
    """A positional index (frames concatenated in Python may repeat index labels)."""
    return frame.reset_index(drop=True) if isinstance(frame, pd.DataFrame) else frame


def _variant_status(part: pd.DataFrame, *, alpha: float, change_fold: float) -> pd.DataFrame:
    """Status of each variant at each draw against its previous draw (rows sorted by mutation
    and timepoint)."""
    g = part.groupby("mutation_id", sort=False)
    det = part["detected"].to_numpy(dtype=bool)
    has_prev = (g.cumcount() > 0).to_numpy()
    prev_alt = g["alt_counts"].shift().fillna(0).to_numpy(dtype=np.int64)
    prev_depth = g["depth"].shift().fillna(1).to_numpy(dtype=np.int64)
    prev_det = g["detected"].shift().eq(True).to_numpy(dtype=bool) & has_prev
    seen_before = (g["detected"].cumsum() - part["detected"].astype(int)).to_numpy() > 0
    alt = part["alt_counts"].to_numpy(dtype=np.int64)
    depth = part["depth"].to_numpy(dtype=np.int64)
    both = det & prev_det
    up = np.full(len(part), np.nan)
    down = np.full(len(part), np.nan)
    if both.any():
        up[both] = _fisher_greater(alt[both], depth[both], prev_alt[both], prev_depth[both])
        down[both] = _fisher_greater(prev_alt[both], prev_depth[both], alt[both], depth[both])
    ratio = np.divide(alt / depth, prev_alt / prev_depth, out=np.full(len(part), np.inf),
                      where=prev_alt > 0)  # fmt: skip
    rising = both & (up < alpha) & (ratio >= change_fold)
    falling = both & ~rising & (down < alpha) & (ratio <= 1 / change_fold)
    status = np.where(det, "detected", "not_detected").astype(object)
    status[has_prev & det & ~seen_before] = "emerging"
    status[has_prev & ~det & prev_det] = "cleared"
    status[rising] = "rising"
    status[falling] = "falling"
    p_change = np.where(rising, up, np.where(falling, down, np.fmin(up, down)))
    return part.assign(status=status, p_change=p_change)


def _truncal(part: pd.DataFrame, truncal: Sequence[str] | None) -> np.ndarray:
    ids = part["mutation_id"].astype(str)
    if truncal is not None:
        return ids.isin({str(t) for t in truncal}).to_numpy()
    tumour = part[~part["is_chip"]]
    first = tumour[tumour["timepoint"] == tumour["timepoint"].min()]
    if first.empty:
        return np.zeros(len(part), dtype=bool)
    if first["clone_id"].notna().any():
        pooled = first.groupby("clone_id")[["alt_counts", "depth"]].sum()
        top = str((pooled["alt_counts"] / pooled["depth"]).idxmax())
        return (part["clone_id"].astype(str) == top).to_numpy() & ~part["is_chip"].to_numpy()
    vmax = float(first["vaf_observed"].max())
    keep = set(first.loc[first["vaf_observed"] >= vmax / 2, "mutation_id"].astype(str))
    return ids.isin(keep).to_numpy() & ~part["is_chip"].to_numpy()


def _timepoints(
    part: pd.DataFrame,
    *,
    alpha: float,
    level: float,
    interval: Interval,
    drop_pct: float,
    fold: float,
) -> tuple[list[dict[str, object]], dict[str, object]]:
    tumour = part[~part["is_chip"]]
    tps = sorted(part["timepoint"].unique())
    rows = []
    base_mean = np.nan
    base_detected = 0
    first_prog: dict[str, object] = {
        "molecular_progression_timepoint": pd.NA,
        "molecular_progression_date": pd.NaT,
        "trigger": pd.NA,
    }
    truncal = tumour[tumour["is_truncal"]]
    pool, name = (truncal, "tumour_fraction") if len(truncal) else (tumour, "pooled")
    rises = _rises_from_nadir(_pooled(pool, tps), tps, alpha=alpha, fold=fold)
    triggers = {tp: name for tp, hits in rises.items() if hits}
    for i, tp in enumerate(tps):
        now = tumour[tumour["timepoint"] == tp]
        trunk = now[now["is_truncal"]]
        a, n = float(trunk["alt_counts"].sum()), float(trunk["depth"].sum())
        if n > 0:
            lo, hi = vaf_interval(np.array([a]), np.array([n]), level=level, method=interval)
            tf, tf_lo, tf_hi = min(2 * a / n, 1.0), min(2 * lo[0], 1.0), min(2 * hi[0], 1.0)
        else:
            tf = tf_lo = tf_hi = np.nan
        mean_vaf = float(now["vaf_observed"].mean()) if len(now) else np.nan
        n_det = int(now["detected"].sum())
        trigger = None
        if i == 0:
            response = "baseline"
            base_mean, base_detected = mean_vaf, n_det
        else:
            trigger = triggers.get(int(tp))
            if trigger is not None:
                response = "progression"
            elif n_det == 0 and base_detected > 0:
                response = "clearance"
            elif n_det == 0:
                response = "not_evaluable"
            elif base_mean > 0 and 100 * (base_mean - mean_vaf) >= drop_pct * base_mean:
                response = "response"
            else:
                response = "stable"
        if trigger is not None and pd.isna(first_prog["molecular_progression_timepoint"]):
            first_prog = {
                "molecular_progression_timepoint": int(tp),
                "molecular_progression_date": now["date"].iloc[0] if len(now) else pd.NaT,
                "trigger": trigger,
            }
        change = 100 * (mean_vaf / base_mean - 1) if base_mean and base_mean > 0 else np.nan
        rows.append(
            {
                "patient_id": part["patient_id"].iloc[0],
                "timepoint": int(tp),
                "date": part.loc[part["timepoint"] == tp, "date"].iloc[0],
                "tumour_fraction": tf,
                "tumour_fraction_low": tf_lo,
                "tumour_fraction_high": tf_hi,
                "mean_vaf": mean_vaf,
                "change_from_baseline_pct": change,
                "n_detected": n_det,
                "n_variants": len(now),
                "molecular_response": response,
            }
        )
    return rows, first_prog


def _matrices(
    tumour: pd.DataFrame, tps: list[int]
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Variant ids and (variant x draw) alt counts, depths and detection calls."""
    alt = tumour.pivot(index="mutation_id", columns="timepoint", values="alt_counts")
    alt = alt.reindex(columns=tps).sort_index()
    depth = tumour.pivot(index="mutation_id", columns="timepoint", values="depth")
    depth = depth.reindex(index=alt.index, columns=tps)
    det = tumour.pivot(index="mutation_id", columns="timepoint", values="detected")
    det = det.reindex(index=alt.index, columns=tps).eq(True).to_numpy(dtype=bool)
    names = [str(m) for m in alt.index]
    return names, alt.to_numpy(dtype=float), depth.to_numpy(dtype=float), det


def _pooled(tumour: pd.DataFrame, tps: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row: the variants' reads pooled per draw (detected when any variant is)."""
    if tumour.empty:
        return np.zeros((1, len(tps))), np.zeros((1, len(tps))), np.zeros((1, len(tps)), bool)
    _, a, n, det = _matrices(tumour, tps)
    detected = np.asarray(det.any(axis=0), dtype=bool)
    return np.nansum(a, axis=0)[None], np.nansum(n, axis=0)[None], detected[None]


def _rises_from_nadir(
    counts: tuple[np.ndarray, np.ndarray, np.ndarray], tps: list[int], *, alpha: float,
    fold: float,
) -> dict[int, list[tuple[int, int, float]]]:  # fmt: skip
    """Per draw, the rows detected at >= ``fold`` x their nadir VAF (lowest earlier draw) and
    significantly above it (one-sided Fisher p < ``alpha``), as (row, nadir draw index, p)."""
    a, n, det = counts
    vaf = np.divide(a, n, out=np.full_like(a, np.nan), where=n > 0)
    out: dict[int, list[tuple[int, int, float]]] = {}
    for i in range(1, len(tps)):
        earlier = np.where(np.isnan(vaf[:, :i]), np.inf, vaf[:, :i])
        low = earlier.argmin(axis=1)
        rows = np.arange(len(a))
        a0, n0 = a[rows, low], n[rows, low]
        a1, n1 = a[:, i], n[:, i]
        ok = det[:, i] & np.isfinite(earlier.min(axis=1)) & (n1 > 0)
        ok &= np.divide(a1, n1, out=np.zeros_like(a1), where=n1 > 0) >= fold * a0 / n0
        if not ok.any():
            continue
        p = np.ones(len(a))
        p[ok] = _fisher_greater(a1[ok], n1[ok], a0[ok], n0[ok])
        hits = np.flatnonzero(ok & (p < alpha))
        if hits.size:
            out[int(tps[i])] = [(int(h), int(low[h]), float(p[h])) for h in hits]
    return out


def _emerging(part: pd.DataFrame, *, alpha: float, fold: float) -> list[dict[str, object]]:
    """The first draw at which each subclonal tumour variant rose from its nadir (truncal
    variants rise with the whole tumour: that is the tumour fraction's rule)."""
    tumour = part[~part["is_chip"] & ~part["is_truncal"]]
    if tumour.empty:
        return []
    tps = sorted(part["timepoint"].unique())
    names, a, n, det = _matrices(tumour, tps)
    rises = _rises_from_nadir((a, n, det), tps, alpha=alpha / max(len(names), 1), fold=fold)
    first = tumour.drop_duplicates("mutation_id")
    first = first.set_index(first["mutation_id"].astype(str))
    dates = part.groupby("timepoint")["date"].first()
    seen: set[int] = set()
    rows: list[dict[str, object]] = []
    for tp in sorted(rises):
        i = tps.index(tp)
        for row, low, p in rises[tp]:
            if row in seen:
                continue
            seen.add(row)
            mid = names[row]
            info = first.loc[mid]
            rows.append({
                "patient_id": part["patient_id"].iloc[0], "mutation_id": mid,
                "gene": info["gene"], "clone_id": info["clone_id"], "timepoint": int(tp),
                "date": dates.get(tp, pd.NaT), "nadir_timepoint": int(tps[low]),
                "nadir_vaf": a[row, low] / n[row, low], "vaf": a[row, i] / n[row, i],
                "fold": (a[row, i] / n[row, i]) / (a[row, low] / n[row, low])
                if a[row, low] > 0 else float("inf"),
                "p": p,
            })  # fmt: skip
    return rows


def _clone_rows(part: pd.DataFrame, *, level: float, interval: Interval) -> list[dict[str, object]]:
    tumour = part[~part["is_chip"] & part["clone_id"].notna()]
    grouped = tumour.groupby(["clone_id", "timepoint"])[["alt_counts", "depth", "mutation_id"]]
    agg = grouped.agg(
        alt_counts=("alt_counts", "sum"),
        depth=("depth", "sum"),
        n_variants=("mutation_id", "nunique"),
    ).reset_index()
    lo, hi = vaf_interval(
        agg["alt_counts"].to_numpy(), agg["depth"].to_numpy(), level=level, method=interval
    )
    agg["vaf"] = agg["alt_counts"] / agg["depth"]
    agg["vaf_low"], agg["vaf_high"] = lo, hi
    trunk = part[part["is_truncal"]].groupby("timepoint")[["alt_counts", "depth"]].sum()
    trunk_vaf = (trunk["alt_counts"] / trunk["depth"]).to_dict()
    agg["ccf"] = [
        min(v / trunk_vaf[t], 1.0) if trunk_vaf.get(t, 0) > 0 else np.nan
        for v, t in zip(agg["vaf"], agg["timepoint"], strict=True)
    ]
    agg.insert(0, "patient_id", part["patient_id"].iloc[0])
    return list(agg.to_dict("records"))


def lead_time(liquid: LiquidResult, response_timepoints: pd.DataFrame) -> pd.DataFrame:
    """Days by which ctDNA flagged progression before RECIST did, per patient.

    Two ctDNA signals are timed against RECIST progression: molecular progression (the
    tumour fraction rising from its nadir) and the first emerging resistant variant (one
    variant rising from its nadir, which can come while the tumour fraction still falls).

    Parameters
    ----------
    liquid
        The tracked series (:func:`track_ctdna`).
    response_timepoints
        ``patient_id, date, overall_response`` per assessment (``RecistResult.timepoints``);
        the first ``PD`` (or ``iUPD``) is RECIST progression.

    Returns
    -------
    pandas.DataFrame
        ``patient_id, molecular_progression_date, recist_progression_date, lead_time_days,
        emerging_variant_date, emerging_lead_time_days`` (days positive when ctDNA came
        first; blank when either date is missing).
    """
    rows = []
    prog = liquid.progression.set_index("patient_id")
    emerging = liquid.emerging
    for pid in prog.index:
        m_date = prog.loc[pid, "molecular_progression_date"]
        tps = response_timepoints[response_timepoints["patient_id"].astype(str) == str(pid)]
        pd_rows = tps[tps["overall_response"].isin(["PD", "iUPD"])].sort_values("timepoint")
        r_date = pd_rows["date"].iloc[0] if len(pd_rows) else pd.NaT
        mine = emerging[emerging["patient_id"].astype(str) == str(pid)]
        e_date = pd.to_datetime(mine["date"]).min() if len(mine) else pd.NaT
        rows.append((pid, m_date, r_date, _days(m_date, r_date), e_date, _days(e_date, r_date)))
    out = pd.DataFrame(
        rows,
        columns=[
            "patient_id",
            "molecular_progression_date",
            "recist_progression_date",
            "lead_time_days",
            "emerging_variant_date",
            "emerging_lead_time_days",
        ],
    )
    for col in ("lead_time_days", "emerging_lead_time_days"):
        out[col] = out[col].astype("Int64")
    return out


def _days(first: Any, then: Any) -> Any:
    return (then - first).days if not (pd.isna(first) or pd.isna(then)) else pd.NA
