"""PET standardised uptake values (SUV) from DICOM headers.

Normalisations (C: activity concentration in Bq/ml, D: injected dose in Bq decayed to the time
the voxel values refer to):

* ``bw``  body weight, g/ml: ``C · W[g] / D``;
* ``lbm`` lean body mass (SUL), g/ml: ``C · LBM[g] / D``, LBM of Janmahasatian et al. (Clin
  Pharmacokinet 2005;44:1051), the PERCIST choice (Tahari et al., J Nucl Med 2014;55:1481);
* ``lbm-james`` the same with James's LBM (Research on obesity, HMSO 1976);
* ``bsa`` body surface area, cm²/ml: ``C · BSA[cm²] / D``, BSA of Du Bois & Du Bois (Arch Intern
  Med 1916;17:863).

Decay and scan time follow the QIBA vendor-neutral SUV pseudo-code (QIBA FDG-PET/CT technical
committee): see :func:`suv_scale_factor`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from ithkit._errors import InputError

#: SUV normalisations accepted by :func:`ithkit.imaging.read_image` (``suv=``)
SUV_KINDS = ("bw", "lbm", "lbm-james", "bsa")
#: the unit of the SUV values of each normalisation (DICOM CID 4100 codes in brackets)
SUV_UNITS = {"bw": "g/ml [GML]", "lbm": "g/ml [GML]", "lbm-james": "g/ml [GML]", "bsa": "cm2/ml"}

_PHILIPS = "Philips PET Private Group"


def normalise_suv_kind(suv: bool | str | None, *, source: str = "suv") -> str | None:
    """``True`` -> ``'bw'``; ``False``/``None``/``'none'`` -> None; a kind name is checked.

    Examples
    --------
    >>> normalise_suv_kind(True), normalise_suv_kind("none"), normalise_suv_kind("LBM")
    ('bw', None, 'lbm')
    """
    if suv is True:
        return "bw"
    if suv is False or suv is None:
        return None
    kind = str(suv).strip().lower()
    if kind in ("none", "false", "off", ""):
        return None
    if kind in ("true", "sul"):
        return "bw" if kind == "true" else "lbm"
    if kind not in SUV_KINDS:
        raise InputError(
            f"unknown SUV normalisation {suv!r}",
            source=source,
            fix=f"one of {', '.join(SUV_KINDS)} or none",
        )
    return kind


def lean_body_mass_kg(
    weight_kg: float, height_m: float, sex: str, *, formula: str = "janmahasatian"
) -> float:
    """Lean body mass (kg) from weight, height and sex.

    ``janmahasatian`` (Janmahasatian et al., Clin Pharmacokinet 2005;44:1051; PERCIST's
    choice, Tahari et al., J Nucl Med 2014;55:1481): men ``9270·W/(6680 + 216·BMI)``, women
    ``9270·W/(8780 + 244·BMI)``, BMI = W/H² (kg, m). ``james`` (James WPT, Research on obesity,
    HMSO 1976): men ``1.10·W − 128·(W/H)²``, women ``1.07·W − 148·(W/H)²`` with H in cm (it
    falls for BMI above ~43 in men and ~37 in women).

    Examples
    --------
    >>> round(lean_body_mass_kg(75, 1.85, "M"), 4)      # calculate-suv's test patient
    60.9153
    >>> round(lean_body_mass_kg(60, 1.60, "F", formula="james"), 4)
    43.3875
    """
    sex = str(sex).upper()[:1]
    if sex not in ("M", "F"):
        raise InputError(
            f"sex {sex or 'missing'!r} is not M or F",
            source="PatientSex",
            fix="lean body mass needs the sex: set PatientSex (0010,0040) to M or F, "
            "or use the bw / bsa SUV",
        )
    if formula == "janmahasatian":
        bmi = weight_kg / height_m**2
        if sex == "M":
            return 9270.0 * weight_kg / (6680.0 + 216.0 * bmi)
        return 9270.0 * weight_kg / (8780.0 + 244.0 * bmi)
    if formula == "james":
        ratio = weight_kg / (height_m * 100.0)
        if sex == "M":
            return 1.10 * weight_kg - 128.0 * ratio**2
        return 1.07 * weight_kg - 148.0 * ratio**2
    raise InputError(
        f"unknown lean body mass formula {formula!r}", source="formula", fix="janmahasatian, james"
    )


def body_surface_area_m2(weight_kg: float, height_m: float) -> float:
    """Body surface area (m²), Du Bois & Du Bois (Arch Intern Med 1916;17:863).

    ``BSA = 0.007184 · W^0.425 · H^0.725`` with W in kg and H in cm.

    Examples
    --------
    >>> round(body_surface_area_m2(75, 1.85), 6)
    1.981376
    """
    return 0.007184 * weight_kg**0.425 * (height_m * 100.0) ** 0.725


def _text(ds: Any, name: str) -> str:
    v = ds.get(name, None) if hasattr(ds, "get") else getattr(ds, name, None)
    return "" if v is None else str(v).strip()


def _number(ds: Any, name: str) -> float | None:
    text = _text(ds, name)
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def parse_dicom_datetime(date: str, time: str) -> datetime | None:
    """A DICOM DA + TM pair (``20260101``, ``083045.25``); a missing date gives 1900-01-01.

    Returns None when the time is missing or unreadable.

    Examples
    --------
    >>> parse_dicom_datetime("20260101", "2359")
    datetime.datetime(2026, 1, 1, 23, 59)
    """
    time = time.strip().replace(":", "")
    if not time:
        return None
    whole, _, frac = time.partition(".")
    whole = whole.ljust(6, "0")
    try:
        day = (
            datetime.strptime(date.strip()[:8], "%Y%m%d") if date.strip() else datetime(1900, 1, 1)
        )
        seconds = int(whole[:2]) * 3600 + int(whole[2:4]) * 60 + int(whole[4:6])
        micro = int((frac + "000000")[:6]) if frac else 0
    except ValueError:
        return None
    return day + timedelta(seconds=seconds, microseconds=micro)


def parse_dicom_dt(value: str) -> datetime | None:
    """A DICOM DT (``YYYYMMDDHHMMSS.FFFFFF&ZZXX``); the timezone suffix is dropped (injection
    and scan are taken as stated in one zone). None when missing or unreadable.

    Examples
    --------
    >>> parse_dicom_dt("20260102003000.5+0100")
    datetime.datetime(2026, 1, 2, 0, 30, 0, 500000)
    """
    value = value.strip()
    for sign in "+-":
        if sign in value[8:]:
            value = value[: 8 + value[8:].index(sign)]
    if len(value) < 8:
        return None
    return parse_dicom_datetime(value[:8], value[8:] or "000000")


def _philips(ds: Any, element: int) -> float | None:
    """Philips private (7053,10xx) value: 00 = SUV scale factor, 09 = Bq/ml scale factor."""
    try:
        block = ds.private_block(0x7053, _PHILIPS)
        value = block[element].value
    except (KeyError, ValueError, AttributeError):
        elem = ds.get((0x7053, 0x1000 + element)) if hasattr(ds, "get") else None
        value = None if elem is None else elem.value
    try:
        out = float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return out if out is not None and out > 0 else None


def _scan_time(
    ds: Any, acquisitions: Iterable[datetime | None], source: str
) -> tuple[datetime, bool]:
    """Scan start (QIBA): the series date/time unless it is later than an acquisition time
    (a post-processed series), then the earliest acquisition. Returns (time, has_date)."""
    series = parse_dicom_datetime(_text(ds, "SeriesDate"), _text(ds, "SeriesTime"))
    acq = [t for t in acquisitions if t is not None]
    if not acq:
        first = parse_dicom_datetime(_text(ds, "AcquisitionDate"), _text(ds, "AcquisitionTime"))
        acq = [first] if first is not None else []
    earliest = min(acq) if acq else None
    scan = series if series is not None else earliest
    if series is not None and earliest is not None and series > earliest:
        scan = earliest
    if scan is None:
        raise InputError(
            "PET header has neither SeriesTime nor AcquisitionTime",
            source=source,
            fix="SUV needs the scan time; read the series with suv=False (--suv none) for Bq/ml",
        )
    has_date = bool(_text(ds, "SeriesDate") or _text(ds, "AcquisitionDate"))
    return scan, has_date


def suv_scale_factor(
    ds: Any,
    *,
    kind: str = "bw",
    source: str = "PET header",
    acquisition_times: Iterable[datetime | None] = (),
) -> float:
    """Factor that turns the rescaled pixel values of a PET series into SUV.

    Parameters
    ----------
    ds
        A pydicom dataset of the series (any slice).
    kind
        ``bw`` (g/ml), ``lbm`` (SUL, Janmahasatian; g/ml), ``lbm-james`` (g/ml), ``bsa``
        (cm²/ml).
    source
        Named in error messages.
    acquisition_times
        Acquisition date/times of every slice (the earliest is the scan start of a
        post-processed series).

    Returns
    -------
    float
        Multiply the (RescaleSlope/Intercept-applied) pixel values by it.

    Notes
    -----
    Units ``BQML``: the dose is decayed with ``2^(−Δt/T½)`` from the injection
    (``RadiopharmaceuticalStartDateTime``, else ``RadiopharmaceuticalStartTime`` on the scan's
    date, one day earlier when that is after the scan: injection before midnight) to the scan
    start when ``DecayCorrection`` is ``START`` (or absent), not at all when it is ``ADMIN``
    (values already refer to the injection time); ``NONE`` is refused. Units ``GML``: values
    are SUVbw already. Units ``CNTS``: Philips private (7053,1000) is the SUVbw factor; without
    it (7053,1009) turns the values into Bq/ml (QIBA pseudo-code). ``RadionuclideTotalDose`` is
    taken as the injected dose (no residual-activity correction).

    Raises
    ------
    ithkit.InputError
        A missing field (weight, dose, half-life, injection or scan time; height or sex for
        LBM/BSA), implausible units (weight > 500 kg: grams; height > 3 m: cm; height < 0.5 m;
        dose < 1e5 Bq: MBq), an injection after the scan, other Units, a ``CorrectedImage``
        without ATTN and DECY.

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset(); ds.Units = "BQML"; ds.DecayCorrection = "START"
    >>> ds.PatientWeight = 75; ds.PatientSize = 1.85; ds.PatientSex = "M"
    >>> ds.SeriesDate = "20260101"; ds.SeriesTime = "100000"
    >>> info = Dataset(); info.RadionuclideTotalDose = 3.7e8; info.RadionuclideHalfLife = 6586.2
    >>> info.RadiopharmaceuticalStartTime = "090000"
    >>> ds.RadiopharmaceuticalInformationSequence = [info]
    >>> f = suv_scale_factor(ds, kind="bw")
    >>> round(f * 3.7e8 * 2 ** (-3600 / 6586.2), 6)   # = weight in g
    75000.0
    >>> round(suv_scale_factor(ds, kind="lbm") / f, 6)  # = LBM / weight
    0.812204
    """
    kind = normalise_suv_kind(kind, source=source) or "bw"
    units = _text(ds, "Units").upper()
    corrected = ds.get("CorrectedImage", None) if hasattr(ds, "get") else None
    if corrected is not None:
        values = {
            str(v).strip().upper()
            for v in ([corrected] if isinstance(corrected, str) else corrected)
        }
        lacking = [c for c in ("ATTN", "DECY") if c not in values]
        if lacking:
            raise InputError(
                f"PET CorrectedImage (0028,0051) lacks {' and '.join(lacking)}: "
                "no SUV of images without attenuation and decay correction",
                source=source,
                fix="use the attenuation- and decay-corrected series, "
                "or read this one with suv=False (--suv none) for its values",
            )

    def missing(what: str, fix: str) -> InputError:
        return InputError(what, source=source, fix=fix)

    no_suv = "or read the series with suv=False (--suv none) for Bq/ml"
    weight = _number(ds, "PatientWeight")
    need_body = kind != "bw" or units != "GML"
    if need_body and (weight is None or weight <= 0):
        raise missing("PET header lacks PatientWeight (0010,1030)", f"set it in kg, {no_suv}")
    if weight is not None and weight > 500:
        raise missing(
            f"PatientWeight (0010,1030) is {weight:g}: implausible in kg (grams given?)",
            "DICOM stores the weight in kg: divide by 1000",
        )
    body_g = (weight or 0.0) * 1000.0
    if kind != "bw":
        height = _number(ds, "PatientSize")
        if height is None or height <= 0:
            raise missing(
                f"{kind} SUV needs PatientSize (0010,1020), the height in m; it is missing",
                "set PatientSize in m, or use --suv bw",
            )
        if height > 3.0:
            raise missing(
                f"PatientSize (0010,1020) is {height:g}: implausible in m (cm given?)",
                "DICOM stores the height in m: divide by 100",
            )
        if height < 0.5:
            raise missing(
                f"PatientSize (0010,1020) is {height:g} m: implausible height",
                "DICOM stores the height in m (e.g. 1.75)",
            )
        assert weight is not None
        if kind == "bsa":
            body_g = body_surface_area_m2(weight, height) * 1e4  # cm²
        else:
            formula = "james" if kind == "lbm-james" else "janmahasatian"
            sex = _text(ds, "PatientSex")
            if sex.upper()[:1] not in ("M", "F"):
                raise missing(
                    f"{kind} SUV needs PatientSex (0010,0040) M or F; it is {sex or 'missing'!r}",
                    "set PatientSex, or use --suv bw / --suv bsa",
                )
            body_g = lean_body_mass_kg(weight, height, sex, formula=formula) * 1000.0
    if units == "GML":
        # already SUVbw: rescale to the other normalisation
        return 1.0 if kind == "bw" else body_g / (float(weight or 0.0) * 1000.0)
    if units == "CNTS":
        suv_bw = _philips(ds, 0x00)
        if suv_bw is not None:
            return suv_bw * body_g / (float(weight or 0.0) * 1000.0)
        to_bqml = _philips(ds, 0x09)
        if to_bqml is None:
            raise missing(
                "PET Units are CNTS without Philips' private SUV (7053,1000) or activity "
                "concentration (7053,1009) scale factor",
                "export the series in Bq/ml (Units BQML) from the scanner, " + no_suv,
            )
        return to_bqml * _bqml_factor(ds, body_g, source, acquisition_times)
    if units != "BQML":
        raise missing(
            f"PET Units {units or 'missing'!r}: SUV needs BQML, CNTS (Philips) or GML",
            "export the series in Bq/ml, " + no_suv,
        )
    return _bqml_factor(ds, body_g, source, acquisition_times)


def _bqml_factor(
    ds: Any, body: float, source: str, acquisition_times: Iterable[datetime | None]
) -> float:
    """``body / decayed dose`` for Bq/ml values (body in g or cm²)."""
    no_suv = "or read the series with suv=False (--suv none) for Bq/ml"
    seq = ds.get("RadiopharmaceuticalInformationSequence", None)
    if not seq:
        raise InputError(
            "PET header lacks the RadiopharmaceuticalInformationSequence (0054,0016)",
            source=source,
            fix="SUV needs the injected dose and its time, " + no_suv,
        )
    info = seq[0]
    dose = _number(info, "RadionuclideTotalDose")
    if dose is None or dose <= 0:
        raise InputError(
            "PET header lacks RadionuclideTotalDose (0018,1074)",
            source=source,
            fix="set the injected dose in Bq, " + no_suv,
        )
    if dose < 1e5:
        raise InputError(
            f"RadionuclideTotalDose (0018,1074) is {dose:g} Bq: implausible (MBq given?)",
            source=source,
            fix="DICOM stores the dose in Bq: multiply MBq by 1e6",
        )
    correction = _text(ds, "DecayCorrection").upper() or "START"
    if correction == "ADMIN":
        return body / dose
    if correction != "START":
        raise InputError(
            f"PET DecayCorrection (0054,1102) is {correction!r}: images not decay corrected",
            source=source,
            fix="SUV is computed for START or ADMIN decay-corrected series; " + no_suv,
        )
    half_life = _number(info, "RadionuclideHalfLife")
    if half_life is None or half_life <= 0:
        raise InputError(
            "PET header lacks RadionuclideHalfLife (0018,1075)",
            source=source,
            fix="set the half-life in s (18F: 6586.2), " + no_suv,
        )
    scan, has_date = _scan_time(ds, acquisition_times, source)
    start = parse_dicom_dt(_text(info, "RadiopharmaceuticalStartDateTime"))
    if start is None:
        t = _text(info, "RadiopharmaceuticalStartTime")
        if not t:
            raise InputError(
                "PET header lacks RadiopharmaceuticalStartDateTime (0018,1078) and "
                "RadiopharmaceuticalStartTime (0018,1072)",
                source=source,
                fix="SUV needs the injection time, " + no_suv,
            )
        start = parse_dicom_datetime(scan.strftime("%Y%m%d"), t)
        if start is None:
            raise InputError(f"RadiopharmaceuticalStartTime {t!r} unreadable", source=source)
        if start > scan:  # no injection date: injected before midnight, scanned after it
            start -= timedelta(days=1)
    elif not has_date:  # a scan time without a date: put it on the injection's day
        scan = start.replace(hour=scan.hour, minute=scan.minute, second=scan.second,
                             microsecond=scan.microsecond)  # fmt: skip
        if scan < start:
            scan += timedelta(days=1)
    delay = (scan - start).total_seconds()
    if delay < 0:
        raise InputError(
            f"injection ({start:%Y-%m-%d %H:%M:%S}) is after the scan start "
            f"({scan:%Y-%m-%d %H:%M:%S})",
            source=source,
            fix="check RadiopharmaceuticalStartDateTime and SeriesDate/SeriesTime",
        )
    return body / (dose * math.pow(2.0, -delay / half_life))
