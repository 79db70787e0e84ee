"""Delta-radiomics: per-lesion feature change over time, test-retest repeatability (ICC)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ithkit._errors import InputError

_ID = ("patient_id", "lesion_id", "timepoint")


def icc(ratings: NDArray[np.float64]) -> tuple[float, float]:
    """ICC(3,1) (consistency) and ICC(2,1) (absolute agreement) of an n x k ratings matrix.

    Two-way ANOVA estimates of Shrout & Fleiss (Psychol Bull 1979;86:420): rows are the
    subjects (lesions), columns the raters (scan sessions). Both are NaN when the subjects do
    not vary and the sessions agree exactly (0/0).

    Parameters
    ----------
    ratings
        Array (n subjects, k >= 2 sessions) without missing values; n >= 2.

    Returns
    -------
    (icc_3_1, icc_2_1)

    Examples
    --------
    Shrout & Fleiss' Table 2 (6 targets, 4 judges): ICC(3,1) = 0.71, ICC(2,1) = 0.29.

    >>> x = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6],
    ...               [10, 5, 6, 9], [6, 2, 4, 7]], dtype=float)
    >>> [round(v, 2) for v in icc(x)]
    [0.71, 0.29]
    """
    x = np.asarray(ratings, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise InputError(
            f"ICC needs >= 2 subjects rated >= 2 times (got shape {x.shape})",
            source="ratings",
            fix="give test-retest scans for at least two lesions",
        )
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * float(((x.mean(axis=1) - grand) ** 2).sum())
    ss_cols = n * float(((x.mean(axis=0) - grand) ** 2).sum())
    ss_err = float(((x - grand) ** 2).sum()) - ss_rows - ss_cols
    msr = ss_rows / (n - 1)
    msc = ss_cols / (k - 1)
    mse = ss_err / ((n - 1) * (k - 1))
    den3 = msr + (k - 1) * mse
    den2 = den3 + k * (msc - mse) / n
    icc3 = (msr - mse) / den3 if den3 > 0 else np.nan
    icc2 = (msr - mse) / den2 if den2 > 0 else np.nan
    return float(icc3), float(icc2)


def feature_repeatability(
    test: Any, retest: Any, *, threshold: float = 0.75, kind: str = "icc3"
) -> Any:
    """ICC of every feature between test and retest scans of the same lesions.

    Parameters
    ----------
    test, retest
        Wide tables (``patient_id, lesion_id, timepoint`` + one column per feature), matched
        on those keys.
    threshold
        Features whose ICC (``kind``) is below it get ``repeatable = False`` (0..1; 0.75 is
        "good" reliability, Koo & Li, J Chiropr Med 2016).
    kind
        ``icc3`` (ICC(3,1), consistency) or ``icc2`` (ICC(2,1), absolute agreement) decides.

    Returns
    -------
    pandas.DataFrame
        ``feature, n_lesions, icc_3_1, icc_2_1, repeatable``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"patient_id": ["P"] * 3, "lesion_id": ["a", "b", "c"],
    ...                   "timepoint": 0, "f": [1.0, 2.0, 3.0], "g": [5.0, 1.0, 3.0]})
    >>> r = t.assign(f=[1.1, 2.0, 2.9], g=[1.0, 5.0, 3.0])
    >>> feature_repeatability(t, r)[["feature", "repeatable"]].values.tolist()
    [['f', True], ['g', False]]
    """
    import pandas as pd

    if not 0 <= threshold <= 1:
        raise InputError(f"ICC threshold is {threshold}", source="threshold", fix="a value in 0..1")
    if kind not in ("icc3", "icc2"):
        raise InputError(f"ICC kind {kind!r}", source="kind", fix="icc3 or icc2")
    merged = test.merge(retest, on=list(_ID), suffixes=("", "__retest"))
    feats = [c for c in test.columns if c not in _ID and f"{c}__retest" in merged.columns]
    rows = []
    for f in feats:
        pair = merged[[f, f"{f}__retest"]].apply(pd.to_numeric, errors="coerce").dropna()
        i3, i2 = icc(pair.to_numpy()) if len(pair) >= 2 else (np.nan, np.nan)
        decide = i3 if kind == "icc3" else i2
        rows.append((f, len(pair), i3, i2, bool(np.isfinite(decide) and decide >= threshold)))
    return pd.DataFrame(rows, columns=["feature", "n_lesions", "icc_3_1", "icc_2_1", "repeatable"])


def lesion_deltas(wide: Any, *, dates: Any = None) -> Any:
    """Change of every feature of every lesion from its baseline scan.

    Parameters
    ----------
    wide
        One row per lesion and timepoint: ``patient_id, lesion_id, timepoint`` then numeric
        feature columns (e.g. from :func:`ithkit.imaging.manifest_features` with
        ``timepoint=None``). A ``date`` column (ISO dates) gives the per-day change.
    dates
        Optional mapping ``(patient_id, lesion_id, timepoint) -> date`` instead of a column.

    Returns
    -------
    pandas.DataFrame
        Long: ``patient_id, lesion_id, feature, timepoint, baseline_timepoint, value,
        baseline_value, delta, delta_rel, days, delta_per_day``. ``delta_rel`` is a fraction
        (NaN when the baseline value is 0); ``days`` and ``delta_per_day`` are NaN without
        dates. Baseline = the lesion's earliest timepoint; lesions scanned once are left out.

    Raises
    ------
    ithkit.InputError
        Missing key columns, a duplicated (patient, lesion, timepoint), a lesion scanned once
        only (no change to measure), dates that go backwards.

    Examples
    --------
    >>> import pandas as pd
    >>> w = pd.DataFrame({"patient_id": "P", "lesion_id": "L1", "timepoint": [0, 1],
    ...                   "date": ["2024-01-01", "2024-03-01"], "mean": [40.0, 30.0]})
    >>> d = lesion_deltas(w)
    >>> [float(v) for v in d.loc[1, ["delta", "delta_rel", "days"]]]
    [-10.0, -0.25, 60.0]
    """
    import pandas as pd

    missing = [c for c in _ID if c not in wide.columns]
    if missing:
        raise InputError(
            f"feature table lacks column {missing[0]!r}",
            source="features",
            fix="one row per patient_id, lesion_id, timepoint",
        )
    w = wide.copy()
    w["patient_id"] = w["patient_id"].astype(str)
    w["lesion_id"] = w["lesion_id"].astype(str)
    dup = w.duplicated(list(_ID))
    if dup.any():
        r = w[dup].iloc[0]
        raise InputError(
            f"lesion {r.lesion_id} of {r.patient_id} appears twice at timepoint {r.timepoint}",
            source="features",
            fix="one row per lesion and timepoint (test-retest scans go in retest_image)",
        )
    if dates is not None:
        w["date"] = [
            dates.get((r.patient_id, r.lesion_id, int(r.timepoint))) for r in w.itertuples()
        ]
    has_dates = "date" in w.columns
    if has_dates:
        w["date"] = pd.to_datetime(w["date"], errors="coerce")
    feats = [
        c for c in w.columns if c not in (*_ID, "date") and pd.api.types.is_numeric_dtype(w[c])
    ]
    counts = w.groupby(["patient_id", "lesion_id"])["timepoint"].transform("size")
    if (counts < 2).all():
        raise InputError(
            "every lesion has one timepoint only",
            source="features",
            fix="delta-radiomics needs >= 2 scans of a lesion",
        )
    w = w[counts >= 2].sort_values(list(_ID)).reset_index(drop=True)
    base = w.groupby(["patient_id", "lesion_id"], sort=False).transform("first")
    long = []
    for f in feats:
        v = w[f].astype(float).to_numpy()
        b = base[f].astype(float).to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(b != 0, (v - b) / np.abs(b), np.nan)
        part = pd.DataFrame(
            {
                "patient_id": w["patient_id"],
                "lesion_id": w["lesion_id"],
                "feature": f,
                "timepoint": w["timepoint"].astype(int),
                "baseline_timepoint": base["timepoint"].astype(int),
                "value": v,
                "baseline_value": b,
                "delta": v - b,
                "delta_rel": rel,
            }
        )
        if has_dates:
            days = (w["date"] - base["date"]).dt.days.astype(float).to_numpy()
            if (days < 0).any():
                r = w[days < 0].iloc[0]
                raise InputError(
                    f"lesion {r.lesion_id} of {r.patient_id}: timepoint {r.timepoint} is dated "
                    "before the baseline scan",
                    source="features",
                    column="date",
                    fix="timepoints must follow the scan dates",
                )
            part["days"] = days
            with np.errstate(divide="ignore", invalid="ignore"):
                part["delta_per_day"] = np.where(days > 0, (v - b) / days, np.nan)
        else:
            part["days"] = np.nan
            part["delta_per_day"] = np.nan
        long.append(part)
    return pd.concat(long, ignore_index=True)


@dataclass(frozen=True)
class DeltaResult:
    """Delta-radiomics of an image manifest.

    Attributes
    ----------
    features
        Wide feature table, one row per lesion and timepoint (``volume_ml`` included).
    deltas
        :func:`lesion_deltas` output plus ``repeatable`` (NA without test-retest scans).
    repeatability
        :func:`feature_repeatability` output (empty without test-retest scans).
    response
        Per lesion and timepoint: ``volume_ml, volume_change_from_baseline_pct,
        volumetric_response`` (from :func:`ithkit.response.volumetric_response` on the image
        volumes) and, with a lesion table, the RECIST ``change_from_baseline_pct`` and
        ``lesion_response`` of :func:`ithkit.response.recist`.
    """

    features: Any
    deltas: Any
    repeatability: Any
    response: Any

    def write(self, folder: str | Path) -> list[Path]:
        """Write ``lesion_features.tsv, feature_deltas.tsv, repeatability.tsv, response.tsv``."""
        from ithkit._atomic import atomic_path

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "lesion_features.tsv": self.features,
            "feature_deltas.tsv": self.deltas,
            "repeatability.tsv": self.repeatability,
            "response.tsv": self.response,
        }
        paths = []
        for name, frame in files.items():
            with atomic_path(out / name) as tmp:
                frame.to_csv(tmp, sep="\t", index=False, float_format="%.6g")
            paths.append(out / name)
        return paths


def image_response(features: Any, lesions: Any = None) -> Any:
    """Volumetric (and with ``lesions``, RECIST) response per lesion beside the features."""
    import pandas as pd

    from ithkit.response import recist, volumetric_response

    frame = features[list(_ID)].copy()
    vol = frame.assign(
        volume_ml=features["volume_ml"].astype(float), lesion_class="target", status="present"
    )
    _, per_lesion = volumetric_response(vol, frame)
    if lesions is not None:
        res = recist(lesions, on_violation="ignore")
        cols = [
            c for c in ("change_from_baseline_pct", "lesion_response") if c in res.lesions.columns
        ]
        rec = res.lesions[list(_ID) + cols].copy()
        rec["patient_id"] = rec["patient_id"].astype(str)
        rec["lesion_id"] = rec["lesion_id"].astype(str)
        rec = rec.rename(columns={"change_from_baseline_pct": "recist_change_from_baseline_pct"})
        per_lesion = per_lesion.merge(rec, on=list(_ID), how="left")
    return pd.DataFrame(per_lesion)


def delta_radiomics(
    manifest: str | Path,
    *,
    config: Any = None,
    icc_threshold: float = 0.75,
    icc_kind: str = "icc3",
    lesions: str | Path | None = None,
    show_progress: bool = False,
    suv: bool | str = True,
) -> DeltaResult:
    """Delta-radiomics of every lesion of an image manifest.

    Parameters
    ----------
    manifest
        Image manifest (``ithkit.schema.IMAGES``) with >= 2 timepoints per lesion; optional
        columns ``date`` (ISO scan date: per-day change) and ``retest_image`` /
        ``retest_mask`` (a repeat scan of that row, e.g. a same-day test-retest CT, paths
        relative to the manifest) for the repeatability filter.
    config
        :class:`ithkit.imaging.FeatureConfig` (default: 3D aggregations, bin size 25 HU).
    icc_threshold, icc_kind
        Features with ICC below the threshold are flagged ``repeatable = False``.
    lesions
        Optional lesion table (``ithkit.schema.LESIONS``) for RECIST beside the features.
    suv
        SUV normalisation of PET DICOM series (:func:`ithkit.imaging.read_image`).

    Returns
    -------
    DeltaResult

    Raises
    ------
    ithkit.InputError
        Bad manifest, lesions scanned once, a retest path missing or given without its mask.
    """
    import pandas as pd

    from ithkit.imaging._extract import extract_features
    from ithkit.imaging._io import read_image
    from ithkit.imaging._phenotypes import manifest_features
    from ithkit.io import read_image_manifest, read_table
    from ithkit.schema import LESIONS

    extra = [
        c
        for c in ("date", "retest_image", "retest_mask")
        if c in pd.read_csv(manifest, nrows=0).columns
    ]
    wide = manifest_features(
        manifest, config=config, timepoint=None, show_progress=show_progress, keep=extra, suv=suv
    )
    dates = None
    if "date" in extra:
        dates = {(r.patient_id, r.lesion_id, int(r.timepoint)): r.date for r in wide.itertuples()}
    feats = wide.drop(columns=extra)
    deltas = lesion_deltas(feats, dates=dates)
    rep = pd.DataFrame(columns=["feature", "n_lesions", "icc_3_1", "icc_2_1", "repeatable"])
    if "retest_image" in extra:
        if "retest_mask" not in extra:
            raise InputError(
                "retest_image without a retest_mask column",
                source=manifest,
                fix="add retest_mask (the mask drawn on the retest scan)",
            )
        frame = read_image_manifest(manifest, keep=extra)
        base = Path(manifest).parent
        cfg = config
        if cfg is None:
            from ithkit.imaging._preprocess import FeatureConfig

            cfg = FeatureConfig(
                aggregation=("none", "3d_merged", "3d"),
                discretisation={"method": "fixed_bin_size", "value": 25},
            )
        rows = []
        for i, r in enumerate(frame.itertuples(index=False)):
            if pd.isna(r.retest_image) or str(r.retest_image).strip() in ("", "nan", "<NA>"):
                continue
            img, msk = base / str(r.retest_image), base / str(r.retest_mask)
            for col, p in (("retest_image", img), ("retest_mask", msk)):
                if not p.exists():
                    raise InputError(
                        f"{col} file {p.name!r} not found",
                        source=manifest,
                        row=i + 2,
                        column=col,
                        fix="paths are relative to the manifest's folder",
                    )
            label = None if pd.isna(r.label) else int(r.label)
            t = extract_features(read_image(img, suv=suv), msk, label=label, config=cfg)
            row = {
                "patient_id": str(r.patient_id),
                "lesion_id": str(r.lesion_id),
                "timepoint": int(r.timepoint),
            }
            row["volume_ml"] = float(t.loc[t["ibsi_code"] == "RNU0", "value"].sum()) / 1000.0
            for f in t.itertuples(index=False):
                row[f"{f.family}:{f.feature}:{f.aggregation}"] = f.value
            rows.append(row)
        if len(rows) < 2:
            raise InputError(
                f"{len(rows)} retest scan(s); an ICC needs >= 2 lesions",
                source=manifest,
                column="retest_image",
                fix="give retest scans for two or more lesions, or drop the column",
            )
        rep = feature_repeatability(
            feats, pd.DataFrame(rows), threshold=icc_threshold, kind=icc_kind
        )
        deltas = deltas.merge(rep[["feature", "repeatable"]], on="feature", how="left")
    else:
        deltas["repeatable"] = pd.NA
    lesion_table = None
    if lesions is not None:
        lesion_table = read_table(lesions, LESIONS)
    response = image_response(feats, lesion_table)
    return DeltaResult(features=wide, deltas=deltas, repeatability=rep, response=response)
