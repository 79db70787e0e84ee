"""Scenario files: the schema of the issue, and one-line errors naming the key path and the fix."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from ithkit import InputError
from ithkit.evolution import load_scenario
from ithkit.evolution._scenario import EXAMPLE

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scenarios"


def test_issue_schema_is_read() -> None:
    sc = load_scenario(EXAMPLE)
    assert sc.names == ("S", "R")
    s, r = sc.populations
    assert s.capacity.constant == 10000 and r.capacity.coefficients == (("S", 1.5),)
    assert sc.competition[0, 1] == 0.5 and sc.competition[1, 0] == 0.9
    assert np.allclose(np.diag(sc.competition), 1.0)
    assert sc.transitions[0, 1] == pytest.approx(1e-7)
    assert sc.biomarker is not None and sc.biomarker.decay == 0.5
    assert sc.progression.biomarker_fold == 1.2
    assert sc.policy == {"kind": "adaptive", "drugs": ["A"], "off_below": 0.5, "on_above": 1.0}
    assert math.isinf(load_scenario({"populations": {"X": {"initial": 1, "growth_rate": 1}}})
                      .populations[0].capacity.constant)  # fmt: skip


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_shipped_examples_validate(name: str) -> None:
    sc = load_scenario(EXAMPLES / name)
    assert sc.horizon_days > 0 and sc.populations


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        ({"engine": "pde"}, "engine: unknown engine 'pde'; use ode or stochastic"),
        ({"populations": {"S": {"initial": 1}}}, "populations.S: initial and growth_rate"),
        ({"populations": {"S": {"initial": "x", "growth_rate": 1}}}, "populations.S.initial"),
        ({"competition": {"S": {"Q": 0.5}}}, "competition.S.Q: unknown population 'Q'"),
        ({"transitions": {"S": {"R": 2.0}}}, "transitions.S.R: 2 is out of range"),
        ({"drugs": {"A": {"kill_rate": {"S": -1}}}}, "drugs.A.kill_rate.S: -1 is out of range"),
        ({"policy": {"kind": "adaptive", "drug": "B"}}, "policy.drugs[0]: unknown drug 'B'"),
        ({"policy": {"kind": "sometimes"}}, "policy.kind: unknown policy 'sometimes'"),
        ({"policy": {"kind": "adaptive", "drug": "A", "off_below": 2}}, "policy.off_below"),
        ({"policy": {"kind": "double_bind", "drugs": ["A"]}}, "policy.drugs"),
        ({"progression": {"tumour_fold": 2}}, "progression.tumour_fold: unknown key"),
        ({"horizon_days": 0}, "horizon_days: 0 is out of range; it must be > 0"),
        ({"colour": "red"}, "colour: unknown key"),
    ],
)
def test_bad_input_names_key_path_and_fix(edit: dict, needle: str, tmp_path: Path) -> None:
    import yaml

    raw = yaml.safe_load(EXAMPLE)
    raw.update(edit)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(InputError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(str(path)) and needle in message
    assert "\n" not in message


def test_not_yaml_gives_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("engine: ode\npopulations: {S: [1, 2\n")
    with pytest.raises(InputError, match=r"broken.yaml: line \d+: not valid YAML"):
        load_scenario(path)


def test_with_values_changes_one_parameter() -> None:
    sc = load_scenario(EXAMPLE)
    other = sc.with_values({"competition.R.S": 0.3, "populations.R.initial": 5})
    assert other.competition[1, 0] == 0.3 and other.populations[1].initial == 5
    assert sc.competition[1, 0] == 0.9  # the original is unchanged
