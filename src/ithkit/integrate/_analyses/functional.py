"""The functional-heterogeneity analysis of one patient (manifest key ``functional``).

Manifest::

    functional:
      responses: responses.tsv        # sample_id, drug, concentration_um, response (or counts)
      derivatives: derivatives.tsv    # optional: sample_id, parent, selected_with
      exposure: {A: 3.0, B: 1.0}      # optional: µM reached in the tumour (design)
      bootstrap: 100                  # optional: bootstrap refits (fits, collateral calls)
      periods_days: [14, 28]          # optional: alternation cycles tried by the design
      horizon_days: 1825              # optional: simulated time of the design
      monitor:                        # optional (default off): the designed double bind
        intervals: [7, 28]            #   read from blood draws every N days
        depths: [500, 5000]           #   at these sequencing depths (reads per site)
        error_rate: 0.001             #   optional, per-base background error
        tumour_fraction: 0.1          #   optional, plasma tumour fraction at the start
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from ithkit import _names
from ithkit._errors import InputError
from ithkit.integrate._types import AnalysisOutput, PatientData, PatientResults, ProfileScore

N_BOOTSTRAP = 100
PERIODS_DAYS = (14.0, 28.0)
MONITOR_INTERVALS = (7.0, 28.0)
MONITOR_DEPTHS = (500, 5000)


def _settings(data: PatientData) -> dict[str, Any]:
    value = data.extra["functional"]
    if not isinstance(value, dict):  # ``functional: responses.tsv``
        return {"responses": value}
    if "responses" not in value:
        raise InputError(
            "functional has no responses file",
            source=data.manifest,
            column="functional.responses",
            fix="write 'functional:' with an indented 'responses: file.tsv'",
        )
    return value


def _monitor_settings(data: PatientData, value: Any) -> dict[str, Any] | None:
    """``monitor:`` of the functional settings: None (off), or the options of
    :func:`ithkit.functional.simulate_monitoring`."""
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    if not isinstance(value, dict):
        raise InputError(
            f"functional.monitor is {value!r}",
            source=data.manifest,
            column="functional.monitor",
            fix="write 'monitor:' with indented 'intervals: [7, 28]' and 'depths: [500, 5000]'",
        )
    unknown = sorted(set(value) - {"intervals", "depths", "error_rate", "tumour_fraction"})
    if unknown:
        raise InputError(
            f"functional.monitor has unknown key(s) {', '.join(map(str, unknown))}",
            source=data.manifest,
            column="functional.monitor",
            fix="use intervals, depths, error_rate, tumour_fraction",
        )
    try:
        options: dict[str, Any] = {
            "intervals_days": tuple(float(v) for v in value.get("intervals", MONITOR_INTERVALS)),
            "depths": tuple(int(v) for v in value.get("depths", MONITOR_DEPTHS)),
        }
        for key in ("error_rate", "tumour_fraction"):
            if key in value:
                options[key] = float(value[key])
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"functional.monitor: {exc}",
            source=data.manifest,
            column="functional.monitor",
            fix="intervals (days) and depths (reads) are lists of numbers, e.g. [7, 28]",
        ) from None
    return options


def analyze(
    data: PatientData, results: PatientResults, out_dir: Path, *, seed: int
) -> AnalysisOutput:
    """Fit the patient's dose responses; with derivatives, collateral sensitivity and a schedule.

    Files go to ``out_dir/functional/`` (``fits.tsv`` ...; ``collateral.tsv`` and
    ``design/`` with derivatives); the store gets fits, collateral calls and ranked policies;
    the profile gets ``n_double_bind_pairs`` and ``best_policy_gain_days``.
    """
    from ithkit.functional import (
        check_derivatives,
        collateral_sensitivity,
        design_scenario,
        design_therapy,
        fit_responses,
        read_derivatives,
        read_responses,
        simulate_monitoring,
    )
    from ithkit.report.functional import functional_section

    settings = _settings(data)
    responses = read_responses(settings["responses"])
    folder = Path(out_dir) / "functional"
    n_boot = int(settings.get("bootstrap", N_BOOTSTRAP))
    periods = tuple(float(v) for v in settings.get("periods_days", PERIODS_DAYS))
    horizon = float(settings.get("horizon_days", 1825.0))
    monitor_options = _monitor_settings(data, settings.get("monitor"))
    fits = fit_responses(
        responses, n_bootstrap=n_boot, seed=seed, source=str(settings["responses"])
    )
    fits.write(folder)
    tables = {_names.FUNCTIONAL_FITS: fits.fits}
    profile: list[ProfileScore] = []
    coll = therapy = monitoring = None
    if settings.get("derivatives") is not None:
        derivatives = read_derivatives(settings["derivatives"])
        check_derivatives(derivatives, responses, source=settings["derivatives"])
        coll = collateral_sensitivity(fits, derivatives, n_bootstrap=n_boot, seed=seed)
        coll.write(folder)
        tables[_names.FUNCTIONAL_COLLATERAL] = coll.table
        profile.append(
            ProfileScore(
                "n_double_bind_pairs",
                len(coll.double_bind_pairs),
                "count",
                "functional/double_bind_pairs.tsv",
            )
        )
        if fits.fits["drug"].nunique() >= 2:
            exposure = {str(k): float(v) for k, v in dict(settings.get("exposure") or {}).items()}
            pair = list(coll.double_bind_pairs[0]) if coll.double_bind_pairs else None
            design = design_scenario(
                fits.fits,
                exposure_um=exposure,
                derivatives=derivatives,
                dip=fits.dip,
                drugs=pair,
                horizon_days=horizon,
            )
            therapy = design_therapy(design, periods_days=periods, seed=seed)
            therapy.write(folder / "design")
            tables[_names.FUNCTIONAL_POLICIES] = therapy.policies
            if monitor_options is not None:
                monitoring = simulate_monitoring(design.raw, seed=seed, **monitor_options)
                monitoring.write(folder / "monitoring")
                tables[_names.FUNCTIONAL_MONITORING] = monitoring.table
            gain = therapy.best_policy_gain_days
            censored = therapy.policies.iloc[0]["time_to_progression_days"]
            note = "vs the better single drug" + (
                " (at least: no progression within the horizon)"
                if censored is None or (isinstance(censored, float) and math.isnan(censored))
                else ""
            )
            profile.append(
                ProfileScore(
                    "best_policy_gain_days", gain, "days", "functional/design/design.json", note
                )
            )
    else:
        profile.append(
            ProfileScore(
                "n_double_bind_pairs", 0, "count", "functional/fits.tsv", "no derivatives measured"
            )
        )
    section = functional_section(
        fits,
        collateral=None if coll is None else coll.table,
        double_bind_pairs=() if coll is None else coll.double_bind_pairs,
        policies=None if therapy is None else therapy.policies,
        recommendation="" if therapy is None else therapy.recommendation,
        monitoring=None if monitoring is None else monitoring.table,
    )
    return AnalysisOutput(
        result={"fits": fits, "collateral": coll, "therapy": therapy, "monitoring": monitoring},
        tables={k: pd.DataFrame(v) for k, v in tables.items()},
        sections=[section],
        profile=profile,
    )
