"""Evolution-under-therapy section of the report: Muller (fish) plot and biomarker plot.

The figures draw a simulation's trajectory table (``time_days``, one column per population,
``biomarker``, ``therapy``); they never simulate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ithkit.report._render import Item, KeyValues, Section, Table, Text
from ithkit.report.figures import PALETTE, new_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ithkit.evolution import Comparison, Simulation


def muller_bands(
    trajectory: pd.DataFrame,
    populations: Sequence[str],
    parents: Mapping[str, str | None] | None = None,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Lower and upper edge (fractions 0..1) of each population's band in a Muller plot.

    A population's band holds itself and its descendants; children sit centred inside their
    parent's band. ``parents`` maps a population to its parent (absent or None: a root).

    Examples
    --------
    >>> t = pd.DataFrame({"time_days": [0, 1], "S": [9.0, 5.0], "R": [1.0, 5.0]})
    >>> bands = muller_bands(t, ["S", "R"], {"R": "S"})
    >>> [round(float(v), 2) for v in bands["R"][0]], [round(float(v), 2) for v in bands["R"][1]]
    ([0.45, 0.25], [0.55, 0.75])
    """
    parents = dict(parents or {})
    pops = list(populations)
    values = trajectory[pops].to_numpy(dtype=float).clip(min=0.0)
    total = values.sum(axis=1)
    frac = np.divide(values, total[:, None], out=np.zeros_like(values), where=total[:, None] > 0)
    col = {p: i for i, p in enumerate(pops)}
    children: dict[str | None, list[str]] = {}
    for p in pops:
        parent = parents.get(p)
        children.setdefault(parent if parent in col else None, []).append(p)

    def clade(p: str) -> np.ndarray:
        out = frac[:, col[p]].copy()
        for c in children.get(p, []):
            out += clade(c)
        return out

    bands: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def place(p: str, lo: np.ndarray) -> None:
        width = clade(p)
        bands[p] = (lo, lo + width)
        kids = children.get(p, [])
        if kids:
            inner = sum((clade(c) for c in kids), np.zeros(len(frac)))
            start = lo + (width - inner) / 2
            for c in kids:
                place(c, start)
                start = start + clade(c)

    lo = np.zeros(len(frac))
    for root in children.get(None, []):
        place(root, lo)
        lo = lo + clade(root)
    return bands


def _therapy_spans(trajectory: pd.DataFrame) -> list[tuple[float, float, str]]:
    t = trajectory["time_days"].to_numpy(dtype=float)
    th = trajectory["therapy"].astype(str).to_numpy()
    spans = []
    start = 0
    for k in range(1, len(t) + 1):
        if k == len(t) or th[k] != th[start]:
            end = t[k] if k < len(t) else t[-1]
            if th[start] != "none":
                spans.append((float(t[start]), float(end), str(th[start])))
            start = k
    return spans


def _shade(ax: Axes, trajectory: pd.DataFrame) -> None:
    labels = sorted({s[2] for s in _therapy_spans(trajectory)})
    colour = {lab: PALETTE[(i + 5) % len(PALETTE)] for i, lab in enumerate(labels)}
    seen: set[str] = set()
    for t0, t1, lab in _therapy_spans(trajectory):
        ax.axvspan(t0, t1, color=colour[lab], alpha=0.15, lw=0,
                   label=None if lab in seen else f"on {lab}")  # fmt: skip
        seen.add(lab)


def muller_plot(
    trajectory: pd.DataFrame,
    populations: Sequence[str],
    *,
    parents: Mapping[str, str | None] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Muller (fish) plot: each population's share of the tumour over time, nested by descent.

    Parameters
    ----------
    trajectory
        A simulation's trajectory table.
    populations
        Population columns to draw (in order).
    parents
        Population -> parent population (e.g. from the scenario's transitions).
    ax
        Axes to draw on (default: a new figure).
    """
    if ax is None:
        fig, ax = new_figure(7.0, 3.2)
    else:
        fig = ax.figure
    t = trajectory["time_days"].to_numpy(dtype=float)
    bands = muller_bands(trajectory, populations, parents)
    for i, p in enumerate(populations):
        lo, hi = bands[p]
        ax.fill_between(t, lo, hi, color=PALETTE[i % len(PALETTE)], lw=0, label=str(p))
    for t0, t1, lab in _therapy_spans(trajectory):
        ax.plot([t0, t1], [1.02, 1.02], color="#333333", lw=2.5, solid_capstyle="butt")
        ax.annotate(lab, ((t0 + t1) / 2, 1.04), fontsize=6, ha="center", va="bottom",
                    annotation_clip=False)  # fmt: skip
    ax.set_xlim(t.min(), t.max())
    ax.set_ylim(0, 1.0)
    ax.set_xlabel("days")
    ax.set_ylabel("fraction of tumour (0-1)")
    ax.set_title("Clonal composition (bars: therapy on)", fontsize=10, pad=24)
    ax.legend(fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def biomarker_plot(
    trajectory: pd.DataFrame,
    populations: Sequence[str],
    *,
    biomarker_name: str = "biomarker",
    ax: Axes | None = None,
) -> Figure:
    """Biomarker (left) and population sizes on a log scale (right), therapy periods shaded."""
    if ax is None:
        fig, (ax1, ax2) = new_figure(10.0, 3.2, ncols=2)
    else:
        fig = ax.figure
        ax1, ax2 = ax, None
    t = trajectory["time_days"].to_numpy(dtype=float)
    _shade(ax1, trajectory)
    marker = trajectory["biomarker"].to_numpy(dtype=float)
    ax1.plot(t, marker, color=PALETTE[0], lw=1.2, label=biomarker_name)
    positive = marker[marker > 0]
    if positive.size and positive.max() / positive.min() > 100:
        ax1.set_yscale("log")  # a wide range (e.g. ctDNA under effective therapy)
    ax1.set_xlabel("days")
    ax1.set_ylabel(biomarker_name if "(" in biomarker_name else f"{biomarker_name} (model units)")
    ax1.set_title(f"{biomarker_name} under therapy", fontsize=10)
    ax1.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    if ax2 is not None:
        _shade(ax2, trajectory)
        for i, p in enumerate(populations):
            y = trajectory[p].to_numpy(dtype=float)
            ax2.plot(t, np.where(y > 0, y, np.nan), color=PALETTE[i % len(PALETTE)], lw=1.2,
                     label=str(p))  # fmt: skip
        ax2.set_yscale("log")
        ax2.set_xlabel("days")
        ax2.set_ylabel("cells (count)")
        ax2.set_title("Populations", fontsize=10)
        ax2.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    return fig


def parents_from_transitions(names: Sequence[str], transitions: Any) -> dict[str, str | None]:
    """Parent of each population: the first population that mutates into it (None: a root).

    Examples
    --------
    >>> parents_from_transitions(["S", "R"], [[0, 1e-7], [0, 0]])
    {'S': None, 'R': 'S'}
    """
    mu = np.asarray(transitions, dtype=float)
    out: dict[str, str | None] = {}
    for j, name in enumerate(names):
        sources = [i for i in range(len(names)) if i != j and mu[i, j] > 0]
        out[str(name)] = str(names[sources[0]]) if sources else None
    return out


def evolution_section(simulation: Simulation, *, comparison: Comparison | None = None) -> Section:
    """The evolution section: summary, Muller plot, biomarker plot, policy comparison."""
    from ithkit.report.sections import _figure

    sc = simulation.scenario
    names = list(sc.names)
    parents = parents_from_transitions(names, sc.transitions)
    s = simulation.summary
    ttp = s["time_to_progression_days"]
    values: dict[str, object] = {
        "scenario": sc.name,
        "engine": f"{s['engine']} ({s['replicates']} run(s))",
        "policy": s["policy"],
        "therapy starts (day)": "n/a"
        if s["treatment_start_days"] is None
        else round(s["treatment_start_days"], 1),
        "time to progression (days)": "none" if ttp is None else round(ttp, 1),
        "cumulative dose": round(s["cumulative_dose"], 1),
        "therapy switches": s["n_switches"],
        "extinction probability": s["extinction_probability"],
    }
    bname = sc.biomarker.name if sc.biomarker is not None else "total cells"
    traj = simulation.trajectory
    items: list[Item] = [
        KeyValues("Simulation", values),
        _figure("Muller plot", lambda: muller_plot(traj, names, parents=parents)),
        _figure("Biomarker", lambda: biomarker_plot(traj, names, biomarker_name=bname)),
    ]
    if comparison is not None:
        items.append(Table("Policies compared", comparison.table,
                           "time to progression from the start of therapy (blank: none within "
                           "the horizon); dose in drug-days x dose.",
                           source="evolution/compare/comparison.tsv"))  # fmt: skip
    note = (
        "Populations follow Lotka-Volterra competition with mutation; therapy switches are "
        "located exactly (ODE events) or at each check (stochastic)."
    )
    items.append(Text(note))
    return Section("evolution", "Evolution under therapy", items)
