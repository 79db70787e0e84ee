"""IBSI preprocessing settings, re-segmentation, outlier filter and discretisation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ithkit._errors import InputError

AGGREGATIONS = (
    "none",
    "2d_average",
    "2d_slice_merged",
    "2_5d_direction_merged",
    "2_5d_merged",
    "3d_average",
    "3d_merged",
    "2d",
    "2_5d",
    "3d",
)
INTERPOLATIONS = ("nearest", "linear", "bspline")
DISCRETISATIONS = ("none", "fixed_bin_number", "fixed_bin_size")
IVH_DISCRETISATIONS = ("texture", "none", "fixed_bin_number", "fixed_bin_size")


@dataclass(frozen=True)
class FeatureConfig:
    """IBSI image-processing settings (all lengths in mm, intensities in image units).

    Parameters
    ----------
    resample_mm
        Target voxel spacing ``[x, y, z]`` in mm, or None to keep the image grid.
    interpolation
        Image interpolator for resampling: ``nearest``, ``linear`` (trilinear) or ``bspline``
        (cubic). The mask is always resampled linearly and thresholded at 0.5 (IBSI 2.4).
    resegment_range
        ``[low, high]``: ROI voxels outside it leave the intensity mask; None keeps all.
    outlier_sigma
        Remove intensity-mask voxels beyond mean +/- ``outlier_sigma`` SD; None keeps all.
    discretisation
        ``{"method": "none" | "fixed_bin_number" | "fixed_bin_size", "value": n or width}``;
        ``none`` needs integer intensities >= 1 (already-discrete images).
    aggregation
        ``"all"`` or a list of aggregation names (see :data:`AGGREGATIONS`).
    ivh_discretisation
        Discretisation of the intensity-volume histogram (IBSI 3.5), which IBSI sets apart from
        the texture one: ``"texture"`` (the ``discretisation`` above), ``"none"`` (calibrated
        discrete intensities, e.g. CT in HU: rounded intensities, unit steps, range = the
        re-segmentation range), or ``{"method": "fixed_bin_size", "value": w}`` (calibrated
        continuous intensities, e.g. PET: bins of width ``w`` from the lower re-segmentation
        bound, IVH on the bin centres) or ``{"method": "fixed_bin_number", "value": n}``
        (arbitrary units, e.g. MR: ``n`` bins over the ROI range, IVH on bin numbers 1..n;
        IBSI recommends 1000). ``{"method": "none"}`` and ``{"method": "texture"}`` are the
        same as the strings.

    Examples
    --------
    >>> cfg = FeatureConfig.from_dict({"discretisation": {"method": "fixed_bin_size", "value": 25}})
    >>> cfg.discretisation, cfg.resample_mm
    ({'method': 'fixed_bin_size', 'value': 25}, None)
    """

    resample_mm: tuple[float, float, float] | None = None
    interpolation: str = "linear"
    resegment_range: tuple[float, float] | None = None
    outlier_sigma: float | None = None
    discretisation: dict[str, Any] = field(
        default_factory=lambda: {"method": "fixed_bin_number", "value": 32}
    )
    aggregation: str | tuple[str, ...] = "all"
    ivh_discretisation: str | dict[str, Any] = "texture"

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "config") -> FeatureConfig:
        """Validate a mapping (e.g. parsed YAML) into a config; bad keys raise InputError."""
        known = set(cls.__dataclass_fields__)
        for key in data:
            if key not in known:
                raise InputError(
                    f"unknown key {key!r}", source=source, fix=f"use one of {sorted(known)}"
                )
        kw: dict[str, Any] = dict(data)
        if kw.get("resample_mm") is not None:
            r = kw["resample_mm"]
            if isinstance(r, (int, float)):
                r = [r, r, r]
            if len(r) != 3 or any(float(v) <= 0 for v in r):
                raise InputError(
                    f"resample_mm is {r!r}", source=source, fix="give null or [x, y, z] in mm > 0"
                )
            kw["resample_mm"] = tuple(float(v) for v in r)
        if kw.get("interpolation", "linear") not in INTERPOLATIONS:
            raise InputError(
                f"interpolation is {kw['interpolation']!r}",
                source=source,
                fix=f"use one of {INTERPOLATIONS}",
            )
        if kw.get("resegment_range") is not None:
            r = kw["resegment_range"]
            if len(r) != 2:
                raise InputError(
                    f"resegment_range is {r!r}", source=source, fix="give null or [low, high]"
                )
            lo = -np.inf if r[0] is None else float(r[0])
            hi = np.inf if r[1] is None else float(r[1])
            if lo >= hi:
                raise InputError(
                    f"resegment_range is {r!r}", source=source, fix="low must be below high"
                )
            kw["resegment_range"] = (lo, hi)
        if kw.get("outlier_sigma") is not None and float(kw["outlier_sigma"]) <= 0:
            raise InputError(
                f"outlier_sigma is {kw['outlier_sigma']!r}", source=source, fix="give null or > 0"
            )
        disc = kw.get("discretisation", {"method": "fixed_bin_number", "value": 32})
        if not isinstance(disc, dict) or disc.get("method") not in DISCRETISATIONS:
            raise InputError(
                f"discretisation is {disc!r}",
                source=source,
                fix=f"give {{method: one of {DISCRETISATIONS}, value: ...}}",
            )
        if disc["method"] != "none" and not (float(disc.get("value") or 0) > 0):
            raise InputError(
                f"discretisation value is {disc.get('value')!r}",
                source=source,
                fix="give a bin number (>= 1) or a bin width (> 0)",
            )
        kw["discretisation"] = dict(disc)
        if "ivh_discretisation" in kw:
            kw["ivh_discretisation"] = _check_ivh(kw["ivh_discretisation"], source)
        agg = kw.get("aggregation", "all")
        if agg != "all":
            agg = tuple([agg] if isinstance(agg, str) else agg)
            bad = [a for a in agg if a not in AGGREGATIONS]
            if bad:
                raise InputError(
                    f"aggregation {bad[0]!r} is unknown",
                    source=source,
                    fix=f"use 'all' or a list from {AGGREGATIONS}",
                )
            kw["aggregation"] = agg
        return cls(**kw)

    @classmethod
    def from_yaml(cls, path: str | Path) -> FeatureConfig:
        """Read a YAML config file."""
        import yaml

        p = Path(path)
        try:
            data = yaml.safe_load(p.read_text()) or {}
        except (OSError, ValueError, yaml.YAMLError) as exc:  # bad timestamps: ValueError
            raise InputError(f"cannot read config: {exc}", source=p) from exc
        if not isinstance(data, dict):
            raise InputError("config is not a mapping", source=p, fix="write key: value lines")
        return cls.from_dict(data, source=str(p))

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping (YAML-ready)."""
        out = asdict(self)
        if isinstance(out["ivh_discretisation"], dict):
            out["ivh_discretisation"] = dict(out["ivh_discretisation"])
        for k in ("resample_mm", "resegment_range"):
            if out[k] is not None:
                out[k] = [float(v) for v in out[k]]
        if out["aggregation"] != "all":
            out["aggregation"] = list(out["aggregation"])
        return out

    def write_yaml(self, path: str | Path) -> None:
        """Write the config as YAML (it goes next to the features)."""
        import yaml

        from ithkit._atomic import atomic_path

        with atomic_path(path) as tmp:
            tmp.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))

    def ivh_settings(self) -> tuple[str, float | None]:
        """IVH discretisation as ``(method, value)``, ``"texture"`` resolved.

        Examples
        --------
        >>> FeatureConfig().ivh_settings()
        ('fixed_bin_number', 32.0)
        >>> ivh = {"method": "fixed_bin_size", "value": 2.5}
        >>> FeatureConfig(ivh_discretisation=ivh).ivh_settings()
        ('fixed_bin_size', 2.5)
        """
        ivh = _check_ivh(self.ivh_discretisation, "config")
        if ivh == "texture":
            method = str(self.discretisation["method"])
            value = self.discretisation.get("value")
            return method, (None if method == "none" or value is None else float(value))
        if ivh == "none":
            return "none", None
        assert isinstance(ivh, dict)
        return str(ivh["method"]), float(ivh["value"])

    @property
    def aggregations(self) -> tuple[str, ...]:
        """The aggregation names in use."""
        return AGGREGATIONS if self.aggregation == "all" else tuple(self.aggregation)


def _check_ivh(ivh: Any, source: str) -> str | dict[str, Any]:
    """Validate ``ivh_discretisation``; canonical form: "texture", "none" or {method, value}."""
    fix = (
        "give texture, none, {method: fixed_bin_size, value: width > 0} or "
        "{method: fixed_bin_number, value: integer >= 1}"
    )
    if isinstance(ivh, str):
        ivh = {"method": ivh}
    if not isinstance(ivh, dict):
        raise InputError(f"ivh_discretisation is {ivh!r}", source=source, fix=fix)
    extra = set(ivh) - {"method", "value"}
    if extra:
        raise InputError(
            f"ivh_discretisation has unknown key {sorted(extra)[0]!r}", source=source, fix=fix
        )
    method = ivh.get("method")
    if method not in IVH_DISCRETISATIONS:
        raise InputError(f"ivh_discretisation method is {method!r}", source=source, fix=fix)
    if method in ("texture", "none"):
        if ivh.get("value") is not None:
            raise InputError(
                f"ivh_discretisation {method!r} takes no value (got {ivh['value']!r})",
                source=source,
                fix=fix,
            )
        return str(method)
    value = ivh.get("value")
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not np.isfinite(value):
        raise InputError(
            f"ivh_discretisation value is {value!r} for {method}", source=source, fix=fix
        )
    if method == "fixed_bin_number":
        if not (value >= 1 and float(value).is_integer()):
            raise InputError(
                f"ivh_discretisation value is {value!r} for {method}", source=source, fix=fix
            )
        return {"method": str(method), "value": int(value)}
    if not value > 0:
        raise InputError(
            f"ivh_discretisation value is {value!r} for {method}", source=source, fix=fix
        )
    return {"method": str(method), "value": value}


def intensity_mask(
    image: NDArray[np.float64], roi: NDArray[np.bool_], config: FeatureConfig
) -> NDArray[np.bool_]:
    """Re-segmentation and outlier filtering of the ROI (IBSI 2.5)."""
    mask = roi.copy()
    if config.resegment_range is not None:
        lo, hi = config.resegment_range
        mask &= (image >= lo) & (image <= hi)
    if config.outlier_sigma is not None:
        vals = image[mask]
        mu, sd = vals.mean(), vals.std()
        k = float(config.outlier_sigma)
        mask &= (image >= mu - k * sd) & (image <= mu + k * sd)
    return mask


def discretise(
    image: NDArray[np.float64], mask: NDArray[np.bool_], config: FeatureConfig
) -> tuple[NDArray[np.int64], int]:
    """Grey levels 1..Ng inside ``mask`` (0 outside) and Ng (IBSI 2.7).

    Examples
    --------
    >>> import numpy as np
    >>> cfg = FeatureConfig(discretisation={"method": "fixed_bin_number", "value": 4})
    >>> q, ng = discretise(np.array([[[0.0, 1.0, 2.0, 4.0]]]), np.ones((1, 1, 4), bool), cfg)
    >>> q.ravel().tolist(), ng
    ([1, 2, 3, 4], 4)
    """
    method = config.discretisation["method"]
    vals = image[mask]
    q = np.zeros(image.shape, dtype=np.int64)
    if method == "none":
        r = np.round(vals)
        if np.any(np.abs(vals - r) > 1e-6) or r.min() < 1:
            raise InputError(
                "discretisation 'none' needs integer intensities >= 1 in the ROI",
                source="config",
                column="discretisation",
                fix="use fixed_bin_number or fixed_bin_size",
            )
        q[mask] = r.astype(np.int64)
        return q, int(r.max())
    value = float(config.discretisation["value"])
    if method == "fixed_bin_number":
        ng = int(value)
        lo, hi = float(vals.min()), float(vals.max())
        if hi == lo:
            d = np.ones(vals.shape, dtype=np.int64)
        else:
            d = np.floor(ng * (vals - lo) / (hi - lo)).astype(np.int64) + 1
            d = np.minimum(d, ng)
        q[mask] = d
        return q, ng
    low = (
        config.resegment_range[0]
        if config.resegment_range is not None and np.isfinite(config.resegment_range[0])
        else float(vals.min())
    )
    d = np.floor((vals - low) / value).astype(np.int64) + 1
    q[mask] = d
    return q, int(d.max())
