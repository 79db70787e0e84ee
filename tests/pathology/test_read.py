"""Reading QuPath exports of every generation, mapped tables and bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ithkit import InputError
from ithkit.pathology import read_detections, to_anndata
from ithkit.pathology._columns import marker_variants

from .conftest import MARKER

# the 15 cells written by hand in data/qupath_v05.tsv (µm)
X_UM = [120.5, 180.0, 210.3, 260.8, 300.1, 340.6, 390.2, 410.9, 150.4,
        1210.0, 1250.5, 1300.2, 1340.7, 1380.1, 1420.4]  # fmt: skip


def test_qupath_v05_names(data: Path) -> None:
    cells = read_detections(data / "qupath_v05.tsv", MARKER)
    assert list(cells.columns) == ["image", "region", "classification", "intensity", "x_um",
                                   "y_um"]  # fmt: skip
    assert cells["image"].unique().tolist() == ["case01.svs"]
    assert cells["region"].value_counts().to_dict() == {"tumor core": 9, "invasive margin": 6}
    assert cells["x_um"].tolist() == X_UM
    assert cells.attrs["n_missing"] == 1  # the NaN is counted, never 0
    assert np.isnan(cells["intensity"].iloc[7])
    assert cells.attrs["marker"] == MARKER
    assert cells["classification"].iloc[1] == "Tumor: 1+"


def test_old_and_new_generations_read_the_same(data: Path) -> None:
    new = read_detections(data / "qupath_v05.tsv", MARKER)
    old = read_detections(data / "qupath_v04.csv", MARKER)  # Class, um, DAB: Nucleus: Mean
    px = read_detections(data / "qupath_px.tsv", MARKER, pixel_size_um=0.5)  # Nucleus: DAB: Mean
    for other in (old, px):
        assert other["region"].astype(str).tolist() == new["region"].astype(str).tolist()
        assert other["classification"].astype(str).tolist() == (
            new["classification"].astype(str).tolist()
        )
        np.testing.assert_allclose(other["intensity"], new["intensity"], equal_nan=True)
        np.testing.assert_allclose(other["x_um"], new["x_um"])
        np.testing.assert_allclose(other["y_um"], new["y_um"])


def test_pixel_coordinates_need_a_pixel_size(data: Path) -> None:
    with pytest.raises(InputError, match=r"pixels.*--pixel-size"):
        read_detections(data / "qupath_px.tsv", MARKER)
    with pytest.raises(InputError, match="not plausible"):
        read_detections(data / "qupath_px.tsv", MARKER, pixel_size_um=-1)


def test_marker_spellings() -> None:
    assert marker_variants("Cell: DAB OD mean") == [
        "Cell: DAB OD mean", "Cell: DAB: Mean", "DAB: Cell: Mean"]  # fmt: skip
    assert "Membrane: DAB OD mean" in marker_variants("DAB: Membrane: Mean")


def test_absent_marker_lists_near_names(data: Path) -> None:
    with pytest.raises(InputError) as info:
        read_detections(data / "qupath_v05.tsv", "Cytoplasm: DAB OD mean")
    msg = str(info.value)
    assert "absent" in msg and "Cell: DAB OD mean" in msg and "\n" not in msg


def test_scripted_export_without_centroids(data: Path) -> None:
    cells = read_detections(data / "scripted.tsv", MARKER)
    assert "x_um" not in cells and cells.attrs["coordinates"] is False
    assert cells.attrs["n_missing"] == 1
    assert sorted(cells["region"].unique()) == ["A", "B"]


def test_column_mapping_for_other_tools(data: Path) -> None:
    cells = read_detections(
        data / "histomicstk.csv",
        columns="x=Identifier.CentroidX,y=Identifier.CentroidY,marker=Nucleus.Intensity.Mean,"
        "region=roi",
    )
    assert cells["region"].tolist() == ["left"] * 3 + ["right"] * 3
    assert cells["intensity"].tolist()[:2] == [0.05, 0.30]
    with pytest.raises(InputError, match="no such column"):
        read_detections(data / "histomicstk.csv", columns="x=CentroidX,y=Identifier.CentroidY")
    with pytest.raises(InputError, match="unknown key"):
        read_detections(data / "histomicstk.csv", columns="colour=roi")


def test_non_numeric_value_names_the_line(tmp_path: Path, data: Path) -> None:
    text = (data / "qupath_v05.tsv").read_text(encoding="utf-8").replace("\t0.35\t", "\tabc\t")
    bad = tmp_path / "bad.tsv"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"line 4.*'abc' is not a number"):
        read_detections(bad, MARKER)


def test_cp1252_and_gzip(tmp_path: Path, data: Path) -> None:
    text = (data / "qupath_v05.tsv").read_text(encoding="utf-8")
    win = tmp_path / "win.tsv"
    win.write_bytes(text.encode("cp1252"))  # µ as the single byte 0xb5
    gz = tmp_path / "export.tsv.gz"
    gz.write_bytes(gzip.compress(text.encode("utf-8")))
    for path in (win, gz):
        cells = read_detections(path, MARKER)
        assert cells["x_um"].tolist() == X_UM


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_detections(tmp_path / "none.tsv", MARKER)
    (tmp_path / "empty.tsv").write_text("")
    with pytest.raises(InputError, match="empty"):
        read_detections(tmp_path / "empty.tsv", MARKER)
    (tmp_path / "header.tsv").write_text(f"Image\tParent\t{MARKER}\n")
    with pytest.raises(InputError, match="no cells"):
        read_detections(tmp_path / "header.tsv", MARKER)


def test_anndata_contract(data: Path) -> None:
    pytest.importorskip("anndata")
    adata = read_detections(data / "qupath_v05.tsv", MARKER, as_anndata=True)
    assert adata.shape == (15, 1)
    assert adata.var_names.tolist() == [MARKER]
    np.testing.assert_allclose(adata.obsm["spatial"][:, 0], X_UM)
    assert {"image", "region", "classification"} <= set(adata.obs.columns)
    frame = pd.DataFrame({"region": ["a"], "intensity": [0.2]})
    assert "spatial" not in to_anndata(frame).obsm
