"""The evolution analysis inside a patient run: manifest ``scenario`` -> report and store."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ithkit import InputError, _names
from ithkit.cli import main
from ithkit.evolution import simulate, virtual_patient
from ithkit.integrate._analyses import spec
from ithkit.integrate.patient import load_patient, run_patient


def _patient_files(tmp_path: Path, seed: int = 3) -> Path:
    vp = virtual_patient(seed=seed, n_regions=2, n_mutations=60)
    return vp.to_files(tmp_path / "data")["manifest"]


def test_virtual_patient_scenario_follows_its_clones_and_rates() -> None:
    vp = virtual_patient(seed=3, n_regions=2, n_mutations=60)
    sc = vp.therapy_scenario()
    initial = pd.Series(
        {n.removeprefix("pop_"): p.initial for n, p in zip(sc.names, sc.populations, strict=True)}
    )
    assert all(n.startswith("pop_") for n in sc.names)  # own prefix: not the clone labels
    # clones start at their mean prevalence over the regions, in the baseline tumour's cells
    mean = vp.clone_ccf.groupby("clone_id")["prevalence"].mean()
    cells = vp.burden.sort_values("day")["sum_volume_ml"].iloc[0] * vp.params["cells_per_ml"]
    for name, value in initial.items():
        assert value == pytest.approx(mean[name] / mean[mean > 0].sum() * cells, rel=1e-9)
    # under continuous therapy, sensitive cells shrink at the kill rate at first
    traj = simulate(sc).trajectory
    resistant = vp.clones.loc[vp.clones["is_resistant"], "clone_id"].astype(str).tolist()
    sensitive = [
        n.removeprefix("pop_") for n in sc.names if n.removeprefix("pop_") not in resistant
    ]
    day10 = traj.loc[(traj["time_days"] - 10).abs().idxmin()]
    ratio = day10[["pop_" + n for n in sensitive]].sum() / initial[sensitive].sum()
    kill = vp.params["kill_rate_per_day"]
    assert ratio == pytest.approx(math.exp(-kill * day10["time_days"]), rel=0.02)


def test_manifest_scenario_gives_section_tables_and_files(tmp_path: Path) -> None:
    data = load_patient(_patient_files(tmp_path))
    assert data.scenario is not None and data.scenario.name == "scenario.yaml"
    from ithkit.integrate._analyses.evolution import analyze
    from ithkit.integrate._types import PatientResults

    out = analyze(data, PatientResults(), tmp_path / "out", seed=0)
    table = out.tables[_names.EVOLUTION_COMPARISON]
    assert list(table["policy"]) == ["continuous", "intermittent", "adaptive"]
    # intermittent and adaptive give less drug than continuous over their time on therapy
    per_day = table.set_index("policy")["dose_per_day"]
    assert per_day["continuous"] == pytest.approx(1.0)
    assert per_day["intermittent"] < 1.0 and per_day["adaptive"] < 1.0
    assert [s.title for s in out.sections] == ["Evolution under therapy"]
    assert (tmp_path / "out" / "evolution" / "trajectory.tsv").exists()
    assert (tmp_path / "out" / "evolution" / "compare" / "comparison.tsv").exists()


def test_no_scenario_no_analysis(tmp_path: Path) -> None:
    manifest = _patient_files(tmp_path)
    info = yaml.safe_load(manifest.read_text())
    del info["scenario"]
    manifest.write_text(yaml.safe_dump(info))
    assert not spec("evolution").applies(load_patient(manifest))


@pytest.mark.requires_report
def test_run_patient_reports_and_stores_the_comparison(tmp_path: Path) -> None:
    from ithkit.store import CohortStore

    manifest = _patient_files(tmp_path)
    run = run_patient(manifest, tmp_path / "run", analyses=["evolution"])
    html = (tmp_path / "run" / _names.REPORT_HTML).read_text()
    assert "Evolution under therapy" in html and "Muller plot" in html
    stored = CohortStore(run.store).read(_names.EVOLUTION_COMPARISON)
    assert set(stored["policy"]) == {"continuous", "intermittent", "adaptive"}


def test_bad_scenario_in_manifest_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = _patient_files(tmp_path)
    (manifest.parent / "scenario.yaml").write_text("engine: ode\nhorizon_days: -5\n")
    # checked when the manifest is read, before any analysis writes a file
    with pytest.raises(InputError, match="horizon_days"):
        load_patient(manifest)
    with pytest.raises(SystemExit) as exit_info:
        main(["run", str(manifest), "--out", str(tmp_path / "cli")])
    assert exit_info.value.code == 2
    assert "scenario.yaml" in capsys.readouterr().err
    assert not (tmp_path / "cli" / "genomic").exists()
