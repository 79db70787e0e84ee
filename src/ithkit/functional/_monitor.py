"""The double bind as a clinic runs it: the resistant fraction read from blood draws every few
days, at a finite sequencing depth and error rate, through :mod:`ithkit.liquid`'s detection
model; what that does to time to progression and to the number of wrong switches."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ithkit._errors import InputError

__all__ = ["MONITORING_COLUMNS", "Monitoring", "simulate_monitoring"]

MONITORING_COLUMNS = (
    "draw_interval_days",
    "depth",
    "error_rate",
    "time_to_progression_days",
    "n_switches",
    "wrong_switches",
    "missed_switches",
    "n_draws",
    "uninformative_draws",
    "ttp_loss_days",
)


@dataclass(frozen=True)
class Monitoring:
    """Result of :func:`simulate_monitoring`.

    Attributes
    ----------
    table
        One row per draw interval and depth: ``draw_interval_days, depth, error_rate,
        time_to_progression_days`` (blank: none within the horizon), ``n_switches,
        wrong_switches`` (switches that the true share at the same draw would not have made),
        ``missed_switches`` (draws where the true share called for a switch that the reading
        missed, e.g. the resistant marker below the limit of detection), ``n_draws,
        uninformative_draws`` (draws where the truncal marker itself was not detected: therapy
        is held, and no switch is counted wrong or missed), ``ttp_loss_days`` (against the
        ideal monitor read continuously; the horizon stands in for no progression).
    ideal_ttp_days
        Time to progression of the noise-free double bind checked every day.
    """

    table: pd.DataFrame
    ideal_ttp_days: float | None

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``monitoring.tsv`` under ``out_dir``."""
        from ithkit.io import write_table

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        return {"monitoring": write_table(self.table, out / "monitoring.tsv")}


def _policy(
    spec: Mapping[str, Any],
    index: int,
    *,
    depth: int,
    error_rate: float,
    tumour_fraction: float,
    alpha: float,
    rng: np.random.Generator,
    tally: dict[str, int],
) -> Any:
    """A double bind deciding on a noisy liquid-biopsy reading at each call (one draw)."""
    from ithkit.liquid import detection_p

    first, second = spec["drugs"]
    hi, lo = float(spec["to_second_above"]), float(spec["to_first_below"])
    state = {"base": math.nan}

    def decide(frac: float, on: tuple[str, ...]) -> tuple[str, ...]:
        if on == (first,) or not on:
            return (second,) if frac > hi else (first,)
        return (first,) if frac < lo else (second,)

    def policy(t: float, pops: Mapping[str, float], biomarker: float, on: tuple[str, ...]):
        x = np.array(list(pops.values()), dtype=float)
        total = float(x.sum())
        if math.isnan(state["base"]):
            state["base"] = total
        true_frac = float(x[index] / total) if total > 0 else 0.0
        # plasma tumour fraction follows the burden (capped); heterozygous diploid markers
        tf = min(0.9, tumour_fraction * total / state["base"])
        p_truncal = tf / 2 * (1 - error_rate) + (1 - tf / 2) * error_rate
        v_marker = tf * true_frac / 2
        p_marker = v_marker * (1 - error_rate) + (1 - v_marker) * error_rate
        alt_t = rng.binomial(depth, p_truncal)
        alt_m = rng.binomial(depth, p_marker)
        p_det = detection_p(
            np.array([alt_t, alt_m]), np.array([depth, depth]), np.array([error_rate, error_rate])
        )
        tally["draws"] += 1
        if p_det[0] >= alpha:  # the tumour itself is not seen in the blood: hold therapy
            tally["uninformative"] += 1
            return on if on else (first,)
        frac = min(1.0, alt_m / alt_t) if p_det[1] < alpha else 0.0
        choice = decide(frac, on)
        ideal = decide(true_frac, on)
        if choice != on and ideal == on:
            tally["wrong"] += 1  # switched where the true share says stay
        elif choice == on and ideal != on:
            tally["missed"] += 1  # stayed where the true share says switch
        return choice

    return policy


def simulate_monitoring(
    scenario: Any,
    *,
    intervals_days: Sequence[float] = (7.0, 14.0, 28.0, 56.0),
    depths: Sequence[int] = (500, 2000, 10000),
    error_rate: float = 1e-3,
    tumour_fraction: float = 0.1,
    alpha: float = 0.01,
    seed: int | None = 0,
) -> Monitoring:
    """Simulate the monitored double bind for each draw interval and sequencing depth.

    At each draw the monitored population's share of the tumour becomes read counts: a
    truncal marker at VAF ``tf / 2`` and the resistant line's marker at ``tf x share / 2``
    (``tf``, the plasma tumour fraction, scales with the burden from ``tumour_fraction`` at the
    start), each read with ``Binomial(depth, v (1 - e) + (1 - v) e)``. The marker counts as
    detected when :func:`ithkit.liquid.detection_p` (errors alone) is below ``alpha``; the
    share read is then ``alt_marker / alt_truncal``, else 0. When the truncal marker itself is
    not detected the draw says nothing about the tumour and therapy is held. Otherwise therapy
    follows the double bind's thresholds on that reading and stays until the next draw.

    Parameters
    ----------
    scenario
        A scenario (file, mapping or :class:`ithkit.evolution.Scenario`) whose policy is a
        ``double_bind`` (e.g. ``scenario.yaml`` of ``ithkit evolve design``).
    intervals_days
        Days between blood draws.
    depths
        Sequencing depths (reads per site).
    error_rate
        Per-base background error rate.
    tumour_fraction
        Plasma tumour fraction at the start of therapy (0..1).
    alpha
        Level of the detection test.
    seed
        Seed of the read counts (cell ``k`` of the grid uses ``SeedSequence(seed).spawn``'s
        ``k``-th child).

    Returns
    -------
    Monitoring

    Examples
    --------
    >>> from ithkit.evolution._scenario import load_scenario
    >>> sc = load_scenario("examples/scenarios/collateral_double_bind.yaml")
    >>> mon = simulate_monitoring(sc, intervals_days=(28.0,), depths=(2000,))
    >>> list(mon.table.columns[:3])
    ['draw_interval_days', 'depth', 'error_rate']
    """
    from ithkit.evolution import load_scenario, simulate

    sc = load_scenario(scenario)
    spec = sc.policy
    if spec["kind"] != "double_bind":
        raise InputError(
            f"the scenario's policy is {spec['kind']}",
            source=sc.source,
            fix="monitoring simulates a double_bind policy",
        )
    if not 0 < tumour_fraction <= 1 or not 0 < error_rate < 0.5:
        raise InputError(
            "tumour_fraction must be in (0, 1] and error_rate in (0, 0.5)",
            source="tumour_fraction",
            fix="give fractions, not percentages",
        )
    for d in depths:
        if int(d) < 1:
            raise InputError(f"depth {d}", source="depths", fix="use depths >= 1")
    for iv in intervals_days:
        if not iv > 0:
            raise InputError(f"draw interval {iv}", source="intervals_days", fix="use days > 0")
    index = sc.index[spec["monitor"]]
    horizon = sc.horizon_days
    ideal = simulate(sc).summary["time_to_progression_days"]
    grid = [(float(iv), int(d)) for iv in intervals_days for d in depths]
    children = np.random.SeedSequence(seed).spawn(len(grid))
    rows = []
    for (iv, depth), child in zip(grid, children, strict=True):
        tally = {"draws": 0, "wrong": 0, "missed": 0, "uninformative": 0}
        run = sc.with_values({"check_interval_days": iv})
        pol = _policy(
            spec,
            index,
            depth=depth,
            error_rate=error_rate,
            tumour_fraction=tumour_fraction,
            alpha=alpha,
            rng=np.random.default_rng(child),
            tally=tally,
        )
        s = simulate(run, policy=pol).summary
        ttp = s["time_to_progression_days"]
        ref = horizon if ideal is None else float(ideal)
        got = horizon if ttp is None else float(ttp)
        rows.append(
            {
                "draw_interval_days": iv,
                "depth": depth,
                "error_rate": error_rate,
                "time_to_progression_days": ttp,
                "n_switches": int(s["n_switches"]),
                "wrong_switches": tally["wrong"],
                "missed_switches": tally["missed"],
                "n_draws": tally["draws"],
                "uninformative_draws": tally["uninformative"],
                "ttp_loss_days": ref - got,
            }
        )
    return Monitoring(
        pd.DataFrame(rows, columns=list(MONITORING_COLUMNS)),
        None if ideal is None else float(ideal),
    )
