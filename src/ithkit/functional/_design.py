"""From measured drug responses to a therapy schedule.

:func:`design_scenario` turns dose-response fits into a scenario of the evolution engine (one
population per measured line, per-day net growth rates untreated and under each drug);
:func:`design_therapy` runs every policy the engine has on it and ranks them;
:func:`double_bind_fraction` is the closed-form share of time on drug A that holds two
populations in balance.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ithkit._errors import InputError

__all__ = [
    "POLICY_COLUMNS",
    "DoubleBindFraction",
    "ScenarioDesign",
    "TherapyDesign",
    "design_scenario",
    "design_therapy",
    "double_bind_fraction",
]

POLICY_COLUMNS = ("policy", "time_to_progression_days", "cumulative_dose", "n_switches", "extinct")
LN2 = math.log(2.0)


@dataclass(frozen=True)
class DoubleBindFraction:
    """The closed-form schedule of :func:`double_bind_fraction`.

    Attributes
    ----------
    fraction_on_a
        Share of time on drug A (0..1).
    rate_per_day
        Net growth rate of both populations on that schedule (per day; < 0: both shrink).
    holds
        True when the schedule makes both populations shrink.
    balanced
        True when the two drugs counter each other (the balance point lies inside 0..1);
        otherwise the better single drug is returned.
    """

    fraction_on_a: float
    rate_per_day: float
    holds: bool
    balanced: bool


def double_bind_fraction(a1: float, a2: float, b1: float, b2: float) -> DoubleBindFraction:
    """Fraction of time on drug A that holds two populations with net rates (a1, a2) on A and
    (b1, b2) on B.

    Spending a fraction ``f`` of the time on A, population ``i`` grows on average at
    ``g_i(f) = f a_i + (1 - f) b_i``. The slower-growing of the two worst cases is reached where
    the lines cross, ``g_1 = g_2``::

        f* = (b2 - b1) / ((a1 - a2) + (b2 - b1)),
        g* = (a1 b2 - a2 b1) / ((a1 - a2) + (b2 - b1)).

    ``f*`` minimises ``max(g_1, g_2)`` and keeps the mixture's composition fixed: over a cycle
    the log ratio ``log(x1 / x2)`` moves by ``(a1 - a2) t_A + (b1 - b2) t_B = 0``, so a double
    bind that switches on the composition spends exactly ``f*`` of its time on A. Both
    populations shrink when ``g* < 0``. When the drugs do not counter each other (``f*``
    outside 0..1) the better single drug is returned.

    Parameters
    ----------
    a1, a2
        Net growth rates (per day) of populations 1 and 2 on drug A.
    b1, b2
        The same on drug B.

    Returns
    -------
    DoubleBindFraction

    Examples
    --------
    Population 1 is killed by A and grows on B; population 2 the reverse:

    >>> d = double_bind_fraction(-0.10, 0.05, 0.05, -0.15)
    >>> round(d.fraction_on_a, 4), round(d.rate_per_day, 4), d.holds
    (0.5714, -0.0357, True)
    """
    da, db = a1 - a2, b2 - b1
    denom = da + db
    if denom != 0:
        f = db / denom
        if 0.0 <= f <= 1.0 and da * db >= 0:
            g = (a1 * b2 - a2 * b1) / denom
            return DoubleBindFraction(float(f), float(g), bool(g < 0), True)
    on_a, on_b = max(a1, a2), max(b1, b2)
    f, g = (1.0, on_a) if on_a <= on_b else (0.0, on_b)
    return DoubleBindFraction(f, float(g), bool(g < 0), False)


# ---------------------------------------------------------------------------------------------
# rates from measurements


def _curve_response(row: pd.Series, c: float) -> float:
    """The fitted viability curve at concentration ``c`` (flat: its mean)."""
    if bool(row.get("flat", False)) or not np.isfinite(row.get("ec50_um", np.nan)):
        return float(row["einf"])
    z = float(np.clip(row["hill"] * (math.log(c) - math.log(row["ec50_um"])), -700, 700))
    return float(row["bottom"] + (row["top"] - row["bottom"]) / (1.0 + math.exp(z)))


def _gr_at(row: pd.Series, c: float) -> float | None:
    """GR value at ``c`` from the GR curve (top 1), or None without GR metrics."""
    needed = ("grinf", "gec50_um", "gr_hill")
    if not all(k in row.index and np.isfinite(row[k]) for k in needed):
        return None
    z = float(np.clip(row["gr_hill"] * (math.log(c) - math.log(row["gec50_um"])), -700, 700))
    return float(row["grinf"] + (1.0 - row["grinf"]) / (1.0 + math.exp(z)))


@dataclass(frozen=True)
class ScenarioDesign:
    """Result of :func:`design_scenario`.

    Attributes
    ----------
    yaml
        The scenario as YAML text, each conversion documented in a comment.
    raw
        The same as a mapping (what :func:`ithkit.evolution.load_scenario` reads).
    rates
        ``population, drug, exposure_um, net_rate_per_day, kill_rate_per_day, source`` (drug
        ``none``: untreated).
    founder, monitor
        The majority population at the start, and the population the double bind watches (the
        one the first drug selects).
    drugs
        The two drugs of the sequential, alternating and double-bind policies, in order.
    """

    yaml: str
    raw: dict[str, Any]
    rates: pd.DataFrame
    founder: str
    monitor: str
    drugs: tuple[str, str]


def design_scenario(
    fits: pd.DataFrame,
    *,
    exposure_um: Mapping[str, float] | None = None,
    derivatives: pd.DataFrame | None = None,
    dip: pd.DataFrame | None = None,
    drugs: Sequence[str] | None = None,
    assay_hours: float = 72.0,
    growth_per_day: float = 0.05,
    switching: float = 1e-6,
    founder_cells: float = 1e9,
    minor_fraction: float = 1e-5,
    capacity: float = 1e11,
    horizon_days: float = 1825.0,
    to_second_above: float = 0.8,
    to_first_below: float = 0.2,
    progression_fold: float = 2.0,
) -> ScenarioDesign:
    """Build an evolution-engine scenario from dose-response fits.

    Each measured line becomes a population. Its untreated net growth rate (per day) is the DIP
    rate of its untreated wells (``dip_ctrl_per_h`` x 24 x ln 2) when time courses were given,
    else ``growth_per_day``. Under drug ``d`` at exposure ``c`` the net rate is, in order of
    preference: the DIP rate measured at ``c``; ``r0 log2(1 + GR(c))`` from the GR curve
    (Hafner et al. 2016: ``GR = 2^(k(c)/k(0)) - 1``); or ``r0 + ln(f(c)) / (assay_hours/24)``
    from the viability curve ``f`` (cells relative to control after the assay). The drug's
    kill rate is ``r0`` minus that net rate (never below 0).

    Parameters
    ----------
    fits
        ``fits.tsv`` of :func:`fit_responses` (its extra columns ``top, bottom, ec50_um,
        gr_hill, dip_ctrl_per_h`` are used).
    exposure_um
        Drug -> concentration (µM) reached in the tumour; default: the highest tested.
    derivatives
        ``sample_id, parent, selected_with``: names the founder (a parent) and the monitored
        line (selected by the first drug).
    dip
        ``dip.tsv`` (DIP rates per concentration), used where it has the exposure.
    drugs
        The two drugs, first one first (default: the first two in ``fits``).
    assay_hours
        Duration of the viability assay (h).
    growth_per_day
        Untreated net growth rate where no DIP rate was measured (per day).
    switching
        Probability per division that the founder gives rise to each other line.
    founder_cells, minor_fraction
        Cells of the founder at the start, and each other line's share of it.
    capacity
        Shared carrying capacity (cells).
    horizon_days
        Simulated time.
    to_second_above, to_first_below
        Double-bind thresholds on the monitored line's share of the tumour.
    progression_fold
        Progression: total cells above this multiple of the start of therapy.

    Returns
    -------
    ScenarioDesign

    Examples
    --------
    >>> from ithkit.functional import fit_responses, synthetic_responses
    >>> responses, derivatives = synthetic_responses()
    >>> fits = fit_responses(responses, n_bootstrap=0).fits
    >>> d = design_scenario(fits, exposure_um={"A": 1.0, "B": 1.0}, derivatives=derivatives)
    >>> d.founder, d.monitor, d.drugs
    ('P', 'RA', ('A', 'B'))
    """
    need = {"sample_id", "drug", "einf", "max_dose_um", "flat"}
    missing = sorted(need - set(fits.columns))
    if missing:
        raise InputError(
            f"fits table lacks {', '.join(missing)}",
            source="fits",
            fix="pass the fits.tsv written by ithkit functional fit",
        )
    fits = fits.assign(sample_id=fits["sample_id"].astype(str), drug=fits["drug"].astype(str))
    samples = list(dict.fromkeys(fits["sample_id"]))
    all_drugs = list(dict.fromkeys(fits["drug"]))
    pair = list(drugs) if drugs is not None else all_drugs[:2]
    if len(pair) != 2 or len(set(pair)) != 2:
        raise InputError(f"drugs {pair}", source="drugs", fix="name two different drugs")
    for d in pair:
        if d not in all_drugs:
            raise InputError(
                f"drug {d!r} was not measured",
                source="drugs",
                fix=f"measured: {', '.join(all_drugs)}",
            )
    if len(samples) < 2:
        raise InputError(
            "only one line was measured",
            source="fits",
            fix="a schedule needs at least two populations (e.g. parent and a "
            "resistant derivative)",
        )
    exposure = dict(exposure_um or {})
    for d in exposure:
        if d not in all_drugs:
            raise InputError(
                f"exposure for unmeasured drug {d!r}",
                source="exposure",
                fix=f"measured: {', '.join(all_drugs)}",
            )
        if not exposure[d] > 0:
            raise InputError(
                f"exposure of {d} is {exposure[d]}",
                source="exposure",
                fix="give a concentration in µM above 0",
            )
    table = fits.set_index(["sample_id", "drug"])
    for d in pair:
        exposure.setdefault(d, float(fits.loc[fits["drug"] == d, "max_dose_um"].max()))
    dip_idx: dict[tuple[str, str, float], float] = {}
    if dip is not None and len(dip):
        for r in dip.itertuples(index=False):
            dip_idx[(str(r.sample_id), str(r.drug), float(r.concentration_um))] = float(
                r.dip_rate_per_h
            )

    rows = []
    r0: dict[str, tuple[float, str]] = {}
    for s in samples:
        part = fits[fits["sample_id"] == s]
        ctrl = part["dip_ctrl_per_h"].dropna() if "dip_ctrl_per_h" in part else pd.Series([])
        if len(ctrl):
            r0[s] = (float(ctrl.mean()) * 24 * LN2, "DIP rate of untreated wells x 24 h x ln 2")
        else:
            r0[s] = (float(growth_per_day), "assumed (no time course measured)")
        rows.append(
            {
                "population": s,
                "drug": "none",
                "exposure_um": 0.0,
                "net_rate_per_day": r0[s][0],
                "kill_rate_per_day": 0.0,
                "source": r0[s][1],
            }
        )
        for d in pair:
            if (s, d) not in table.index:
                raise InputError(
                    f"line {s} was not measured with drug {d}",
                    source="fits",
                    fix="measure every line with both drugs",
                )
            row = table.loc[(s, d)]
            c = exposure[d]
            base = r0[s][0]
            if (s, d, c) in dip_idx:
                net = dip_idx[(s, d, c)] * 24 * LN2
                src = f"DIP rate at {c:g} µM x 24 h x ln 2"
            elif (gr := _gr_at(row, c)) is not None:
                net = base * math.log2(max(1.0 + gr, 1e-6))
                src = f"GR({c:g} µM) = {gr:.3f}: r0 x log2(1 + GR)"
            else:
                f = min(max(_curve_response(row, c), 1e-3), 1.0)
                net = base + math.log(f) / (assay_hours / 24.0)
                src = f"viability({c:g} µM) = {f:.3f}: r0 + ln(viability) / {assay_hours:g} h"
            rows.append(
                {
                    "population": s,
                    "drug": d,
                    "exposure_um": c,
                    "net_rate_per_day": net,
                    "kill_rate_per_day": max(base - net, 0.0),
                    "source": src,
                }
            )
    rates = pd.DataFrame(rows)

    founder, monitor = _roles(samples, pair, rates, derivatives)
    return _emit(
        samples,
        pair,
        rates,
        r0,
        founder,
        monitor,
        exposure,
        switching=switching,
        founder_cells=founder_cells,
        minor_fraction=minor_fraction,
        capacity=capacity,
        horizon_days=horizon_days,
        to_second_above=to_second_above,
        to_first_below=to_first_below,
        progression_fold=progression_fold,
    )


def _roles(
    samples: list[str], pair: list[str], rates: pd.DataFrame, derivatives: pd.DataFrame | None
) -> tuple[str, str]:
    """The founder (a parent, else the line most sensitive to both drugs) and the monitored
    line (selected with the first drug, else the fastest on it)."""
    net = rates.set_index(["population", "drug"])["net_rate_per_day"]
    founder = None
    monitor = None
    if derivatives is not None and len(derivatives):
        parents = [str(p) for p in derivatives["parent"] if str(p) in samples]
        founder = parents[0] if parents else None
        chosen = [
            str(r.sample_id)
            for r in derivatives.itertuples(index=False)
            if str(r.selected_with) == pair[0] and str(r.sample_id) in samples
        ]
        monitor = chosen[0] if chosen else None
    if founder is None:
        founder = min(samples, key=lambda s: max(net[(s, pair[0])], net[(s, pair[1])]))
    if monitor is None:
        others = [s for s in samples if s != founder]
        monitor = max(others, key=lambda s: net[(s, pair[0])])
    return founder, monitor


def _emit(
    samples: list[str],
    pair: list[str],
    rates: pd.DataFrame,
    r0: Mapping[str, tuple[float, str]],
    founder: str,
    monitor: str,
    exposure: Mapping[str, float],
    **opt: float,
) -> ScenarioDesign:
    """The scenario mapping and its YAML text with one comment per conversion."""
    kill = rates.set_index(["population", "drug"])
    lines = [
        "# Scenario designed by ithkit evolve design from measured dose responses.",
        "# Rates are per day. Untreated growth: see each population's comment. Under a drug the",
        "# kill rate is r0 minus the measured net rate at the stated exposure (never below 0).",
        f"name: designed_{'_'.join(pair)}",
        "engine: ode",
        f"horizon_days: {opt['horizon_days']:g}",
        "populations:",
    ]
    raw: dict[str, Any] = {
        "name": f"designed_{'_'.join(pair)}",
        "engine": "ode",
        "horizon_days": opt["horizon_days"],
        "populations": {},
    }
    for s in samples:
        init = opt["founder_cells"] * (1.0 if s == founder else opt["minor_fraction"])
        rate, src = r0[s]
        spec = {"initial": float(init), "growth_rate": round(rate, 6), "capacity": opt["capacity"]}
        raw["populations"][s] = spec
        role = "founder" if s == founder else f"{opt['minor_fraction']:g} of the founder"
        lines.append(
            f"  {s}: {{initial: {init:.4g}, growth_rate: {spec['growth_rate']}, "
            f"capacity: {opt['capacity']:.3g}}}  # {role}; growth: {src}"
        )
    raw["competition"] = {s: {t: 1.0 for t in samples if t != s} for s in samples}
    lines.append("competition:  # one shared capacity: every line competes with every other")
    for s in samples:
        inner = ", ".join(f"{t}: 1" for t in samples if t != s)
        lines.append(f"  {s}: {{{inner}}}")
    raw["drugs"] = {}
    lines.append("drugs:")
    for d in pair:
        k = {s: round(float(kill.loc[(s, d), "kill_rate_per_day"]), 6) for s in samples}
        raw["drugs"][d] = {"kill_rate": k}
        inner = ", ".join(f"{s}: {v}" for s, v in k.items())
        lines.append(f"  {d}: {{kill_rate: {{{inner}}}}}  # exposure {exposure[d]:g} µM")
        for s in samples:
            lines.append(f"    # {s} on {d}: {kill.loc[(s, d), 'source']}")
    others = [s for s in samples if s != founder]
    raw["transitions"] = {founder: {s: opt["switching"] for s in others}}
    inner = ", ".join(f"{s}: {opt['switching']:g}" for s in others)
    lines.append(f"transitions: {{{founder}: {{{inner}}}}}  # per division")
    raw["biomarker"] = {"name": "ctDNA", "production": {s: 1.0 for s in samples}}
    prod = ", ".join(f"{s}: 1" for s in samples)
    lines.append(f"biomarker: {{name: ctDNA, production: {{{prod}}}}}  # burden, read instantly")
    raw["policy"] = {
        "kind": "double_bind",
        "drugs": list(pair),
        "monitor": monitor,
        "to_second_above": opt["to_second_above"],
        "to_first_below": opt["to_first_below"],
    }
    lines.append(f"# double bind: {monitor} (selected by {pair[0]}) watched in the blood")
    lines.append(
        f"policy: {{kind: double_bind, drugs: [{pair[0]}, {pair[1]}], monitor: "
        f"{monitor}, to_second_above: {opt['to_second_above']:g}, "
        f"to_first_below: {opt['to_first_below']:g}}}"
    )
    raw["progression"] = {"total_fold": opt["progression_fold"]}
    lines.append(f"progression: {{total_fold: {opt['progression_fold']:g}}}")
    return ScenarioDesign("\n".join(lines) + "\n", raw, rates, founder, monitor, (pair[0], pair[1]))


# ---------------------------------------------------------------------------------------------
# policies


@dataclass(frozen=True)
class TherapyDesign:
    """Result of :func:`design_therapy`.

    Attributes
    ----------
    scenario
        The :class:`ScenarioDesign` simulated.
    policies
        Ranked (best first): ``policy, time_to_progression_days, cumulative_dose, n_switches,
        extinct`` (time to progression blank: none within the horizon).
    alternation
        Every alternation tried: ``days_first, days_second, fraction_on_first,
        time_to_progression_days, cumulative_dose``.
    fraction
        :func:`double_bind_fraction` of the two lines the drugs select.
    recommendation
        The best policy and its switch rule in one plain sentence.
    best_policy_gain_days
        Time to progression of the best policy minus that of the better single drug given
        continuously (a run without progression counts as the horizon).
    details
        Per policy: the policy mapping simulated.
    """

    scenario: ScenarioDesign
    policies: pd.DataFrame
    alternation: pd.DataFrame
    fraction: DoubleBindFraction
    recommendation: str
    best_policy_gain_days: float
    details: dict[str, dict[str, Any]] = field(default_factory=dict)

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``scenario.yaml, policies.tsv, alternation.tsv, rates.tsv, design.json,
        recommendation.txt`` under ``out_dir``."""
        from ithkit._atomic import atomic_path
        from ithkit.io import write_table

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "policies": write_table(self.policies, out / "policies.tsv"),
            "alternation": write_table(self.alternation, out / "alternation.tsv"),
            "rates": write_table(self.scenario.rates, out / "rates.tsv"),
        }
        summary = {
            "recommendation": self.recommendation,
            "best_policy_gain_days": self.best_policy_gain_days,
            "fraction_on_first": self.fraction.fraction_on_a,
            "balanced_rate_per_day": self.fraction.rate_per_day,
            "holds": self.fraction.holds,
            "founder": self.scenario.founder,
            "monitor": self.scenario.monitor,
            "drugs": list(self.scenario.drugs),
            "policies": self.details,
        }
        texts = {
            "scenario": ("scenario.yaml", self.scenario.yaml),
            "design": ("design.json", json.dumps(summary, indent=2) + "\n"),
            "recommendation": ("recommendation.txt", self.recommendation + "\n"),
        }
        for key, (name, text) in texts.items():
            with atomic_path(out / name) as tmp:
                tmp.write_text(text, encoding="utf-8")
            files[key] = out / name
        return files


def _ttp_key(ttp: Any, horizon: float) -> float:
    return horizon if ttp is None or (isinstance(ttp, float) and math.isnan(ttp)) else float(ttp)


def design_therapy(
    design: ScenarioDesign,
    *,
    periods_days: Sequence[float] = (7.0, 14.0, 28.0),
    fractions: Sequence[float] | None = None,
    seed: int | None = 0,
) -> TherapyDesign:
    """Run every policy of the evolution engine on a designed scenario and rank them.

    Policies: each drug continuously, the combination, sequential (first drug until
    progression, then the second), adaptive on the first drug, alternating with the best
    period and share of time on each drug (searched over ``periods_days`` x ``fractions``, plus
    the closed-form share of :func:`double_bind_fraction`), and the double bind monitored on the
    line the first drug selects. Ranked by time to progression (none within the horizon
    first), then by lower cumulative dose.

    Parameters
    ----------
    design
        From :func:`design_scenario`.
    periods_days
        Cycle lengths tried for alternation (days).
    fractions
        Shares of each cycle on the first drug (default 0.2, 0.3, ..., 0.8).
    seed
        Passed to the engine (the ODE engine is deterministic).

    Returns
    -------
    TherapyDesign

    Examples
    --------
    >>> from ithkit.functional import fit_responses, synthetic_responses
    >>> responses, derivatives = synthetic_responses()
    >>> fits = fit_responses(responses, n_bootstrap=0).fits
    >>> sd = design_scenario(fits, exposure_um={"A": 1.0, "B": 1.0}, derivatives=derivatives)
    >>> td = design_therapy(sd, periods_days=(14.0,), fractions=(0.5,))
    >>> td.policies["policy"].iloc[0] in set(td.policies["policy"])
    True
    """
    from ithkit.evolution import compare, load_scenario

    sc = load_scenario(design.raw, source="designed scenario")
    first, second = design.drugs
    horizon = sc.horizon_days
    rates = design.rates.set_index(["population", "drug"])["net_rate_per_day"]
    # the two lines the drugs select: the monitored one and the fastest on the second drug
    mon = design.monitor
    other = max((s for s in sc.names if s != mon), key=lambda s: rates[(s, second)])
    frac = double_bind_fraction(
        rates[(mon, first)], rates[(other, first)], rates[(mon, second)], rates[(other, second)]
    )

    grid = list(fractions) if fractions is not None else [round(0.1 * k, 1) for k in range(2, 9)]
    if frac.balanced and 0 < frac.fraction_on_a < 1:
        grid.append(frac.fraction_on_a)
    alternations: list[dict[str, Any]] = []
    for period in periods_days:
        for f in grid:
            if not 0 < f < 1:
                raise InputError(f"fraction {f}", source="fractions", fix="use values in (0, 1)")
            alternations.append(
                {
                    "kind": "alternating",
                    "drugs": [first, second],
                    "days": [period * f, period * (1 - f)],
                }
            )
    alt = compare(sc, alternations, seed=seed)
    alt_rows = []
    for spec, (_, sim) in zip(alternations, alt.simulations.items(), strict=True):
        s = sim.summary
        a, b = spec["days"]
        alt_rows.append(
            {
                "days_first": a,
                "days_second": b,
                "fraction_on_first": a / (a + b),
                "time_to_progression_days": s["time_to_progression_days"],
                "cumulative_dose": s["cumulative_dose"],
            }
        )
    alt_table = pd.DataFrame(alt_rows)
    order = sorted(
        range(len(alt_rows)),
        key=lambda i: (
            -_ttp_key(alt_rows[i]["time_to_progression_days"], horizon),
            alt_rows[i]["cumulative_dose"],
        ),
    )
    best_alt = alternations[order[0]]

    named: dict[str, dict[str, Any]] = {
        f"continuous_{first}": {"kind": "continuous", "drugs": [first]},
        f"continuous_{second}": {"kind": "continuous", "drugs": [second]},
        "combination": {"kind": "combination", "drugs": [first, second]},
        "sequential": {"kind": "sequential", "drugs": [first, second]},
        "adaptive": {"kind": "adaptive", "drugs": [first], "off_below": 0.5, "on_above": 1.0},
        "alternating": best_alt,
        "double_bind": dict(design.raw["policy"]),
    }
    cmp = compare(sc, list(named.values()), seed=seed)
    rows = []
    for name, (_, sim) in zip(named, cmp.simulations.items(), strict=True):
        s = sim.summary
        rows.append(
            {
                "policy": name,
                "time_to_progression_days": s["time_to_progression_days"],
                "cumulative_dose": s["cumulative_dose"],
                "n_switches": s["n_switches"],
                "extinct": bool(s["extinct"]),
            }
        )
    rows.sort(
        key=lambda r: (
            -_ttp_key(r["time_to_progression_days"], horizon),
            not r["extinct"],
            r["cumulative_dose"],
        )
    )
    table = pd.DataFrame(rows, columns=list(POLICY_COLUMNS))
    best = rows[0]
    single = max(
        _ttp_key(r["time_to_progression_days"], horizon)
        for r in rows
        if r["policy"].startswith("continuous_")
    )
    gain = _ttp_key(best["time_to_progression_days"], horizon) - single
    sentence = _sentence(best, named[best["policy"]], design, rows, horizon)
    return TherapyDesign(design, table, alt_table, frac, sentence, float(gain), named)


def _sentence(
    best: Mapping[str, Any],
    spec: Mapping[str, Any],
    design: ScenarioDesign,
    rows: list[dict[str, Any]],
    horizon: float,
) -> str:
    kind = spec["kind"]
    first, second = design.drugs
    if kind == "double_bind":
        rule = (
            f"give {first} until {spec['monitor']} (selected by {first}) exceeds "
            f"{spec['to_second_above']:.0%} of the tumour in the liquid biopsy, then "
            f"{second} until it falls below {spec['to_first_below']:.0%}, and repeat"
        )
    elif kind == "alternating":
        a, b = spec["days"]
        rule = f"alternate {a:.1f} days of {first} with {b:.1f} days of {second}"
    elif kind == "sequential":
        rule = f"give {first} until progression, then {second}"
    elif kind == "adaptive":
        rule = (
            f"give {first} until the biomarker falls below {spec['off_below']:.0%} of "
            f"baseline, pause until it returns to {spec['on_above']:.0%}, and repeat"
        )
    elif kind == "combination":
        rule = f"give {first} and {second} together continuously"
    else:
        rule = f"give {spec['drugs'][0]} continuously"
    ttp = best["time_to_progression_days"]
    outcome = (
        f"no progression within {horizon:g} days"
        if ttp is None
        else f"time to progression {ttp:.0f} days"
    )
    ref = next(r for r in rows if r["policy"] == f"continuous_{first}")
    ref_ttp = ref["time_to_progression_days"]
    ref_text = "no progression" if ref_ttp is None else f"{ref_ttp:.0f} days"
    return (
        f"Recommended: {best['policy'].replace('_', ' ')}: {rule} ({outcome}, against "
        f"{ref_text} on {first} alone, in the model built from these measurements)."
    )
