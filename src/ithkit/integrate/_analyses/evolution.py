"""The evolution analysis of one patient, as ``ithkit run`` and ``ithkit demo`` apply it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ithkit import _names
from ithkit.integrate._types import AnalysisOutput, PatientData, PatientResults, ProfileScore

# policies the report compares with the scenario's own (those that need no extra settings)
REPORT_POLICIES = ("continuous", "intermittent", "adaptive")


def analyze(
    data: PatientData, results: PatientResults, out_dir: Path, *, seed: int
) -> AnalysisOutput:
    """Simulate the patient's therapy scenario and compare policies .

    The manifest's ``scenario`` (YAML, docs/evolution.md) runs under its own policy; the
    comparison adds continuous, intermittent and adaptive therapy (adaptive only when the
    scenario has a biomarker). Files go to ``out_dir/evolution/`` (``trajectory.tsv``,
    ``summary.json``, ``comparison.tsv``); the store gets the comparison; the report gets the
    Muller and biomarker plots.
    """
    assert data.scenario is not None
    from ithkit.evolution._scenario import load_scenario
    from ithkit.evolution._simulate import compare, simulate
    from ithkit.io import write_table
    from ithkit.report.evolution import evolution_section

    scenario = load_scenario(data.scenario)
    sim = simulate(scenario, seed=seed)
    own = str(scenario.policy["kind"])
    others = [
        p for p in REPORT_POLICIES
        if p != own and (p != "adaptive" or scenario.biomarker is not None)
    ]  # fmt: skip
    wanted = [own, *others] if scenario.drug_names else [own]
    comparison = compare(scenario, wanted, seed=seed)
    folder = Path(out_dir) / "evolution"
    sim.write(folder)
    comparison.write(folder / "compare")
    ranking = comparison.ranking()
    write_table(ranking, folder / "compare" / "ranking.tsv")
    table = comparison.table.assign(scenario=scenario.name)
    return AnalysisOutput(
        result=comparison,
        tables={_names.EVOLUTION_COMPARISON: table},
        sections=[evolution_section(sim, comparison=comparison)],
        profile=evolution_profile(ranking),
    )


def evolution_profile(ranking: pd.DataFrame) -> list[ProfileScore]:
    """The best policy of the comparison and its gain over continuous therapy."""
    best = ranking.iloc[0]
    src = "evolution/compare/ranking.tsv"
    note = "no progression within the simulated time" if bool(best["censored"]) else ""
    return [
        ProfileScore("best_policy", str(best["policy"]), "category", src, note),
        ProfileScore("ttp_gain_days", float(best["gain_vs_continuous_days"]), "days", src,
                     "vs continuous therapy" + (" (at least)" if note else "")),
    ]  # fmt: skip
