"""CDISC SDTM tumour domains: read TU (identification) + TR (results), write RS records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ithkit._errors import InputError

# TU.TUSTRESC / TUORRES -> lesion_class
_CLASS = {"TARGET": "target", "NON-TARGET": "non_target", "NON TARGET": "non_target", "NEW": "new"}
# TR TUMSTATE results -> status (and, for targets, a conventional diameter)
_STATE = {
    "PRESENT": "present",
    "ABSENT": "absent",
    "UNEQUIVOCAL PROGRESSION": "unequivocal_progression",
    "TOO SMALL TO MEASURE": "present",
    "NON-MEASURABLE": "present",
    "NOT EVALUABLE": None,
    "NOT ASSESSED": None,
}
_DIAMETER_TESTS = ("LDIAM", "SAXIS", "DIAMETER", "LPERP")
_UNIT_MM = {"MM": 1.0, "CM": 10.0}


def _read_any(path: str | Path, name: str) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", source=p, fix=f"give the SDTM {name} domain file")
    if p.suffix.lower() == ".xpt":
        try:
            frame = pd.read_sas(p, format="xport", encoding="utf-8")
        except Exception as exc:  # pandas' XPT reader raises several types on a damaged file
            raise InputError(
                f"cannot read SAS XPT ({' '.join(str(exc).split())[:120]})",
                source=p,
                fix=f"give the SDTM {name} domain as XPT v5 or CSV",
            ) from None
    else:
        import io as _io

        from ithkit.io import read_text

        try:
            frame = pd.read_csv(
                _io.StringIO(read_text(p)), dtype=str, keep_default_na=False, index_col=False
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputError(
                f"cannot parse the CSV ({' '.join(str(exc).split())[:120]})",
                source=p,
                fix="every row needs the same number of commas as the header",
            ) from None
    frame.columns = [str(c).strip().upper() for c in frame.columns]
    for col in frame.columns:
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col].dtype):
            frame[col] = frame[col].astype(object).where(frame[col].notna(), "")
            frame[col] = [str(v).strip() for v in frame[col]]
    return frame


def _need(frame: pd.DataFrame, cols: tuple[str, ...], source: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise InputError(
            f"missing SDTM variable(s) {', '.join(missing)}",
            source=source,
            fix="the TU domain needs USUBJID, TULNKID, TUORRES, TULOC; the TR domain USUBJID, "
            "TRLNKID, TRTESTCD, TRORRES (or TRSTRESN), VISITNUM",
        )


def read_sdtm_tumor(tu: str | Path, tr: str | Path) -> pd.DataFrame:
    """Read SDTM TU + TR tumour domains (CSV or SAS XPT) into the lesions contract.

    Mapping: ``USUBJID`` -> ``patient_id``; ``TULNKID``/``TRLNKID`` -> ``lesion_id``;
    ``TUORRES`` (TARGET, NON-TARGET, NEW) -> ``lesion_class``; ``TULOC`` -> ``organ``
    (lower case); a lesion is a lymph node when ``TULOC`` contains ``LYMPH`` or its diameter
    test is ``SAXIS``; ``VISITNUM`` ranked per subject -> ``timepoint`` (0 = first visit);
    ``TRDTC`` -> ``date``; tests ``LDIAM``/``SAXIS``/``DIAMETER`` (``TRSTRESN`` or
    ``TRORRES``, unit ``TRSTRESU``/``TRORRESU`` mm or cm) -> ``diameter_mm``; ``VOLUME`` (ml)
    -> ``volume_ml``; ``TUMSTATE`` (PRESENT, ABSENT, UNEQUIVOCAL PROGRESSION, TOO SMALL TO
    MEASURE, NOT EVALUABLE) -> ``status``. The result is validated like a lesions CSV.

    Raises
    ------
    ithkit.InputError
        On missing variables, unknown TUORRES / TUMSTATE values or units, or results for a
        lesion the TU domain does not identify.
    """
    from ithkit import schema

    tu_f = _read_any(tu, "TU")
    tr_f = _read_any(tr, "TR")
    _need(tu_f, ("USUBJID", "TULNKID", "TUORRES", "TULOC"), str(tu))
    _need(tr_f, ("USUBJID", "TRLNKID", "TRTESTCD", "VISITNUM"), str(tr))
    info: dict[tuple[str, str], dict[str, Any]] = {}
    for i, r in tu_f.iterrows():
        cls = _CLASS.get(r["TUORRES"].upper())
        if cls is None:
            raise InputError(
                f"unknown TUORRES value {r['TUORRES']!r}",
                source=str(tu),
                row=int(i) + 2,
                column="TUORRES",
                fix="use TARGET, NON-TARGET or NEW",
            )
        info[(r["USUBJID"], r["TULNKID"])] = {
            "organ": r["TULOC"].lower() or "unknown",
            "lesion_class": cls,
            "is_lymph_node": "LYMPH" in r["TULOC"].upper(),
        }
    result_col = "TRSTRESN" if "TRSTRESN" in tr_f.columns else "TRORRES"
    _need(tr_f, (result_col,), str(tr))
    unit_col = next((c for c in ("TRSTRESU", "TRORRESU") if c in tr_f.columns), None)
    visits = tr_f[["USUBJID", "VISITNUM"]].copy()
    visits["v"] = pd.to_numeric(visits["VISITNUM"], errors="coerce")
    bad = visits["v"].isna() | ~np.isfinite(visits["v"].to_numpy(dtype=float))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"VISITNUM {tr_f['VISITNUM'].iloc[i]!r} is not a number",
            source=str(tr),
            row=i + 2,
            column="VISITNUM",
            fix="VISITNUM orders the visits: 1, 2, 3...",
        )
    rank = {
        (u, v): i
        for u, part in visits.groupby("USUBJID")
        for i, v in enumerate(sorted(part["VISITNUM"].unique(), key=lambda x: float(x)))
    }
    records: dict[tuple[str, str, str], dict[str, Any]] = {}
    for i, r in tr_f.iterrows():
        key = (r["USUBJID"], r["TRLNKID"])
        if key not in info:
            raise InputError(
                f"TR result for lesion {r['TRLNKID']!r} of {r['USUBJID']} not identified in TU",
                source=str(tr),
                row=int(i) + 2,
                column="TRLNKID",
                fix="every TRLNKID needs a TU record with the same TULNKID",
            )
        rec = records.setdefault(
            (r["USUBJID"], r["TRLNKID"], r["VISITNUM"]),
            {
                "patient_id": r["USUBJID"],
                "lesion_id": r["TRLNKID"],
                "timepoint": rank[(r["USUBJID"], r["VISITNUM"])],
                "date": r.get("TRDTC", "")[:10] or None,
                **info[key],
                "diameter_mm": None,
                "volume_ml": None,
                "status": None,
            },
        )
        test = r["TRTESTCD"].upper()
        value = r[result_col]
        if test in _DIAMETER_TESTS or test == "VOLUME":
            if value == "":
                continue
            unit = (r[unit_col].upper() if unit_col else "MM") or "MM"
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = float("nan")
            if not np.isfinite(number):
                raise InputError(
                    f"{test} result {value!r} is not a number",
                    source=str(tr),
                    row=int(i) + 2,
                    column=result_col,
                    fix="write the measurement as a number (unit in TRSTRESU/TRORRESU)",
                )
            if test == "VOLUME":
                rec["volume_ml"] = number * (1000.0 if unit in ("L",) else 1.0)
                continue
            if unit not in _UNIT_MM:
                raise InputError(
                    f"unknown unit {unit!r} for {test}",
                    source=str(tr),
                    row=int(i) + 2,
                    column=unit_col,
                    fix="diameters in mm or cm",
                )
            rec["diameter_mm"] = number * _UNIT_MM[unit]
            if test == "SAXIS":
                rec["is_lymph_node"] = True
        elif test == "TUMSTATE":
            state = value.upper()
            if state not in _STATE:
                raise InputError(
                    f"unknown TUMSTATE result {value!r}",
                    source=str(tr),
                    row=int(i) + 2,
                    column=result_col,
                    fix=f"use one of {', '.join(_STATE)}",
                )
            rec["status"] = _STATE[state]
            if state == "TOO SMALL TO MEASURE" and rec["lesion_class"] == "target":
                rec["diameter_mm"] = rec["diameter_mm"] or 5.0
    if not records:
        raise InputError(
            "no tumour results", source=str(tr), fix="the TR domain needs one row per result"
        )
    frame = pd.DataFrame(list(records.values()))
    frame["is_lymph_node"] = frame["is_lymph_node"].map(lambda b: "true" if b else "false")
    frame = frame.astype(object).where(frame.notna(), "")
    frame = frame.astype(str)
    return schema.validate(frame, schema.LESIONS, source=f"{tu} + {tr}")


_RS_TESTS = (
    ("TRGRESP", "Target Response", "target_response"),
    ("NTRGRESP", "Non-target Response", "non_target_response"),
    ("NEWLIND", "New Lesion Indicator", "new_lesions"),
    ("OVRLRESP", "Overall Response", "overall_response"),
)


def to_rs(result: Any, *, study_id: str = "ITHKIT") -> pd.DataFrame:
    """RS-style response records (CDISC SDTM RS domain) from a :class:`RecistResult`.

    One record per patient, assessment and test (``TRGRESP, NTRGRESP, NEWLIND, OVRLRESP``)
    plus one ``BESTRSP`` per patient; ``RSCAT`` is ``RECIST 1.1`` or ``iRECIST``, ``VISITNUM``
    the timepoint, ``RSDTC`` the assessment date. Codes follow ithkit (``NON_CR_NON_PD`` is
    written ``NON-CR/NON-PD`` as in the CDISC controlled terminology).
    """
    cat = "iRECIST" if result.criteria == "irecist" else "RECIST 1.1"
    rows = []
    tps = result.timepoints
    for r in tps[tps["timepoint"] > 0].itertuples():
        for code, name, col in _RS_TESTS:
            value = getattr(r, col)
            if col == "new_lesions":
                value = "Y" if value else "N"
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue
            value = str(value).replace("NON_CR_NON_PD", "NON-CR/NON-PD")
            rows.append(
                {
                    "STUDYID": study_id,
                    "DOMAIN": "RS",
                    "USUBJID": r.patient_id,
                    "RSTESTCD": code,
                    "RSTEST": name,
                    "RSCAT": cat,
                    "RSORRES": value,
                    "RSSTRESC": value,
                    "VISITNUM": int(r.timepoint),
                    "RSDTC": "" if pd.isna(r.date) else pd.Timestamp(r.date).strftime("%Y-%m-%d"),
                }
            )
    for r in result.best_response.itertuples():
        value = str(r.best_overall_response).replace("NON_CR_NON_PD", "NON-CR/NON-PD")
        rows.append(
            {
                "STUDYID": study_id,
                "DOMAIN": "RS",
                "USUBJID": r.patient_id,
                "RSTESTCD": "BESTRSP",
                "RSTEST": "Best Overall Response",
                "RSCAT": cat,
                "RSORRES": value,
                "RSSTRESC": value,
                "VISITNUM": None,
                "RSDTC": "",
            }
        )
    frame = pd.DataFrame(rows)
    frame.insert(3, "RSSEQ", frame.groupby("USUBJID").cumcount() + 1)
    return frame
