"""The monitored double bind with blood draws read through ithkit.liquid's detection model."""

from __future__ import annotations

from pathlib import Path

import pytest

from ithkit import InputError
from ithkit.cli import main
from ithkit.functional import MONITORING_COLUMNS, simulate_monitoring

EXAMPLE = Path(__file__).parents[2] / "examples" / "scenarios" / "collateral_double_bind.yaml"


def test_sparse_shallow_monitoring_loses_time_dense_deep_does_not() -> None:
    # the ideal double bind of the example never progresses (drives the tumour extinct)
    mon = simulate_monitoring(EXAMPLE, intervals_days=(14.0, 56.0), depths=(200, 20000), seed=1)
    assert mon.ideal_ttp_days is None
    t = mon.table.set_index(["draw_interval_days", "depth"])
    assert t.loc[(14.0, 20000), "ttp_loss_days"] == 0.0
    assert t.loc[(56.0, 200), "ttp_loss_days"] > 500  # monthly-plus shallow draws miss RA
    assert list(mon.table.columns) == list(MONITORING_COLUMNS)


def test_monitoring_needs_a_double_bind(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("policy: {kind: double_bind", "policy: {kind: sequential")
    text = text.replace(", monitor: RA, to_second_above: 0.8, to_first_below: 0.2}", "}")
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match="double_bind"):
        simulate_monitoring(path)
    with pytest.raises(InputError, match="percentages"):
        simulate_monitoring(EXAMPLE, tumour_fraction=10.0)


@pytest.mark.requires_report
def test_cli_monitor(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(
            [
                "functional",
                "monitor",
                str(EXAMPLE),
                "--out",
                str(tmp_path),
                "--intervals",
                "28",
                "--depths",
                "1000",
            ]
        )
    assert info.value.code in (0, None)
    assert (tmp_path / "monitoring.tsv").exists() and (tmp_path / "monitoring.svg").exists()
