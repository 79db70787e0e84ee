"""The evolution analysis of one patient, as ``ithkit run`` and ``ithkit demo`` apply it."""

from __future__ import annotations

from pathlib import Path

from ithkit import _names
from ithkit.integrate.patient import AnalysisOutput, PatientData

# policies the report compares with the scenario's own (those that need no extra settings)
REPORT_POLICIES = ("continuous", "intermittent", "adaptive")


def analyze_patient(data: PatientData, out_dir: Path, *, seed: int) -> AnalysisOutput | None:
    """Simulate the patient's therapy scenario and compare policies (None without one).

    The manifest's ``scenario`` (YAML, docs/evolution.md) runs under its own policy; the
    comparison adds continuous, intermittent and adaptive therapy (adaptive only when the
    scenario has a biomarker). Files go to ``out_dir/evolution/`` (``trajectory.tsv``,
    ``summary.json``, ``comparison.tsv``); the store gets the comparison; the report gets the
    Muller and biomarker plots.
    """
    if data.scenario is None:
        return None
    from ithkit.evolution._scenario import load_scenario
    from ithkit.evolution._simulate import compare, simulate
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
    table = comparison.table.assign(scenario=scenario.name)
    return AnalysisOutput(
        tables={_names.EVOLUTION_COMPARISON: table},
        sections=[evolution_section(sim, comparison=comparison)],
    )
