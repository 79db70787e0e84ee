"""ithkit imaging commands end to end on a small synthetic CT."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ithkit.cli import main
from ithkit.imaging import read_image, synthetic_ct, write_volume


def _run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(args)
    return int(info.value.code or 0)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("ct")
    les = synthetic_ct(shape=(20, 24, 24), radius_mm=8.0, seed=3)
    write_volume(les.image, d / "ct.nii.gz")
    write_volume(les.mask, d / "mask.nii.gz")
    return d


def test_features_command(files: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        "discretisation: {method: fixed_bin_size, value: 25}\naggregation: [none, 3d_merged, 3d]\n"
    )
    out = tmp_path / "features.tsv"
    code = _run(["imaging", "features", str(files / "ct.nii.gz"), str(files / "mask.nii.gz"),
                 "--out", str(out), "--label", "1", "--config", str(cfg)])  # fmt: skip
    assert code == 0
    t = pd.read_csv(out, sep="\t")
    assert list(t.columns) == ["feature", "ibsi_code", "family", "aggregation", "value"]
    assert set(t["aggregation"]) == {"none", "3d_merged", "3d"}
    assert t.loc[t["ibsi_code"] == "Q4LE", "value"].iloc[0] > 40
    written = yaml.safe_load((tmp_path / "features.config.yaml").read_text())
    assert written["discretisation"] == {"method": "fixed_bin_size", "value": 25}


def test_map_and_habitats_commands(files: Path, tmp_path: Path) -> None:
    ct, mask, maps = str(files / "ct.nii.gz"), str(files / "mask.nii.gz"), tmp_path / "maps"
    code = _run(["imaging", "map", ct, mask, "--out", str(maps),
                 "--features", "mean,variance", "--kernel", "3"])  # fmt: skip
    assert code == 0
    m = read_image(tmp_path / "maps" / "map_mean.nii.gz")
    img = read_image(files / "ct.nii.gz")
    assert m.array.shape == img.array.shape and m.origin == img.origin
    m1, m2 = str(maps / "map_mean.nii.gz"), str(maps / "map_variance.nii.gz")
    code = _run(["imaging", "habitats", mask, m1, m2, "--out", str(tmp_path / "hab"), "--k", "3"])
    assert code == 0
    h = read_image(tmp_path / "hab" / "habitats.nii.gz")
    assert set(np.unique(h.array).tolist()) == {0, 1, 2, 3}
    tab = pd.read_csv(tmp_path / "hab" / "habitats.tsv", sep="\t")
    assert tab["volume_fraction"].sum() == pytest.approx(1.0, abs=1e-4)


def test_bad_label_exits_2(files: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _run(["imaging", "features", str(files / "ct.nii.gz"), str(files / "mask.nii.gz"),
                 "--out", str(tmp_path / "f.tsv"), "--label", "7"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "label 7 is not in the mask" in err and "\n" not in err
