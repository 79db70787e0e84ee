"""Fuzzed SAS XPT (SDTM TU/TR) and h5ad (obs/obsm) inputs: a valid result or an InputError,
never another exception (hypothesis; profile ``ci`` in the suite)."""

from __future__ import annotations

import importlib.util
import re
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from .test_fuzz_readers import NASTY, check_reader


def _xpt_writer() -> Any:
    """The character-only XPORT v5 writer of the response tests (one writer, not two)."""
    path = Path(__file__).resolve().parents[1] / "response" / "test_response_inputs.py"
    spec = importlib.util.spec_from_file_location("_ithkit_xpt_writer", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_xpt


TU = "USUBJID,TULNKID,TUORRES,TULOC\nS-1,T01,TARGET,LIVER\nS-1,NT01,NON-TARGET,BONE\n"
TR = (
    "USUBJID,TRLNKID,TRTESTCD,TRORRES,TRORRESU,VISITNUM,TRDTC\n"
    "S-1,T01,LDIAM,30,mm,1,2024-01-15\nS-1,NT01,TUMSTATE,PRESENT,,1,2024-01-15\n"
    "S-1,T01,LDIAM,20,mm,2,2024-03-15\nS-1,NT01,TUMSTATE,ABSENT,,2,2024-03-15\n"
)


@pytest.fixture(scope="module")
def xpt_seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Valid TU and TR domains as XPT bytes (read back correctly), the frames, the writer."""
    from ithkit.response import read_sdtm_tumor

    write_xpt = _xpt_writer()
    tmp = tmp_path_factory.mktemp("xpt")
    frames = {name: pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
              for name, text in (("TU", TU), ("TR", TR))}  # fmt: skip
    for name, frame in frames.items():
        write_xpt(frame, tmp / f"{name.lower()}.xpt", name)
    lesions = read_sdtm_tumor(tmp / "tu.xpt", tmp / "tr.xpt")
    assert len(lesions) == 4  # the seed itself reads: two lesions at two visits
    raw = {name: (tmp / f"{name.lower()}.xpt").read_bytes() for name in frames}
    return {"frames": frames, "raw": raw, "write": write_xpt}


@given(data=st.data())
def test_mutated_xpt(xpt_seeds: dict[str, Any], data: st.DataObject, tmp_path_factory) -> None:
    """TU or TR as XPT: a cell or column changed before writing, or the file's bytes edited
    (header records, NAMESTR field, data), truncated, or replaced by random bytes."""
    from ithkit.response import read_sdtm_tumor

    tmp = tmp_path_factory.mktemp("xptcase")
    domain = data.draw(st.sampled_from(["TU", "TR"]))
    other = "TR" if domain == "TU" else "TU"
    (tmp / f"{other.lower()}.xpt").write_bytes(xpt_seeds["raw"][other])
    op = data.draw(st.sampled_from(["cell", "drop_col", "bytes", "truncate", "random"]))
    if op in ("cell", "drop_col"):
        frame = xpt_seeds["frames"][domain].copy()
        if op == "cell":
            r = data.draw(st.integers(0, len(frame) - 1))
            c = data.draw(st.sampled_from(list(frame.columns)))
            frame.loc[r, c] = data.draw(NASTY.filter(lambda v: v.isascii()))
        else:
            frame = frame.drop(columns=data.draw(st.sampled_from(list(frame.columns))))
        xpt_seeds["write"](frame, tmp / "seed.xpt", domain)
        content = (tmp / "seed.xpt").read_bytes()
    else:
        raw = bytearray(xpt_seeds["raw"][domain])
        if op == "bytes":
            for _ in range(data.draw(st.integers(1, 4))):
                at = data.draw(st.integers(0, len(raw) - 1))
                raw[at : at + 4] = data.draw(st.binary(min_size=1, max_size=4))
        elif op == "truncate":
            raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
        else:
            raw = bytearray(data.draw(st.binary(max_size=400)))
        content = bytes(raw)
    check_reader("xpt", lambda p: read_sdtm_tumor(tmp / "tu.xpt", tmp / "tr.xpt"),
                 tmp / f"{domain.lower()}.xpt", content)  # fmt: skip


@pytest.fixture(scope="module")
def tissue_h5ad(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ithkit.spatial import simulate_tissue

    path = tmp_path_factory.mktemp("h5ad") / "tissue.h5ad"
    simulate_tissue("immune_excluded", 120, seed=0).write_h5ad(path)
    return path


SPATIAL_EDITS = st.sampled_from(
    ["none", "one_column", "three_columns", "nan", "inf", "strings", "rows_short", "rows_long",
     "same_point", "missing", "scalar"]
)  # fmt: skip
OBS_EDITS = st.sampled_from(["none", "drop_label", "one_label", "nan_labels", "numeric_labels"])


def _spatial(xy: np.ndarray, edit: str) -> np.ndarray | None:
    n = xy.shape[0]
    if edit == "one_column":
        return xy[:, :1]
    if edit == "three_columns":
        return np.column_stack([xy, np.zeros(n)])
    if edit == "nan":
        out = xy.copy()
        out[: max(1, n // 10), 0] = np.nan
        return out
    if edit == "inf":
        out = xy.copy()
        out[0, 1] = np.inf
        return out
    if edit == "strings":
        return np.char.encode(xy.astype(str), "ascii")
    if edit == "rows_short":
        return xy[:-3]
    if edit == "rows_long":
        return np.vstack([xy, xy[:3]])
    if edit == "same_point":
        return np.zeros_like(xy)
    if edit == "scalar":
        return np.array(1.0)
    return None  # "missing"


def _h5ad_case(src: Path, path: Path, spatial_edit: str, obs_edit: str) -> None:
    """Write ``src`` edited: ``obs`` through anndata, ``obsm['spatial']`` through h5py (so
    shapes anndata would refuse to assign reach the file)."""
    import anndata
    import h5py

    path.write_bytes(src.read_bytes())
    adata = anndata.read_h5ad(path)
    if obs_edit == "drop_label":
        adata.obs = adata.obs.drop(columns="cell_type")
    elif obs_edit == "one_label":
        adata.obs["cell_type"] = "tumour"
    elif obs_edit == "nan_labels":
        adata.obs["cell_type"] = adata.obs["cell_type"].astype(object)
        adata.obs.iloc[::2, adata.obs.columns.get_loc("cell_type")] = np.nan
    elif obs_edit == "numeric_labels":
        adata.obs["cell_type"] = adata.obs["cell_type"].cat.codes.astype(float)
    adata.write_h5ad(path)
    if spatial_edit == "none":
        return
    new = _spatial(np.asarray(adata.obsm["spatial"]), spatial_edit)
    with h5py.File(path, "r+") as f:
        del f["obsm/spatial"]
        if new is not None:
            ds = f["obsm"].create_dataset("spatial", data=new)
            ds.attrs["encoding-type"], ds.attrs["encoding-version"] = "array", "0.2.0"


def _analyse(p: Path) -> Any:
    """What ``ithkit spatial`` does with a file: read it, compute every statistic."""
    from ithkit.io._anndata import read_h5ad
    from ithkit.spatial import heterogeneity

    return heterogeneity(read_h5ad(p), "cell_type", n_perms=10, n_niches=2, source=str(p))


#: single edits and what they must give (None: a valid result)
H5AD_CASES = [
    ("none", "none", None), ("none", "drop_label", "no column 'cell_type'"),
    ("none", "one_label", "single label"), ("none", "nan_labels", "missing label"),
    ("none", "numeric_labels", None), ("one_column", "none", "numeric (n_cells, 2)"),
    ("three_columns", "none", None), ("nan", "none", "NaN or infinite"),
    ("inf", "none", "NaN or infinite"), ("strings", "none", "numeric (n_cells, 2)"),
    ("rows_short", "none", "incorrect shape"), ("rows_long", "none", "incorrect shape"),
    ("same_point", "none", "one position"), ("missing", "none", "no coordinates"),
    ("scalar", "none", "not a readable AnnData"),
]  # fmt: skip


@pytest.mark.parametrize(("spatial_edit", "obs_edit", "message"), H5AD_CASES)
def test_h5ad_obs_obsm_edits(
    tissue_h5ad: Path, spatial_edit: str, obs_edit: str, message: str | None, tmp_path: Path
) -> None:
    """Each single edit of ``obs`` or ``obsm['spatial']``: the InputError that names it, or a
    valid result (a third coordinate column is ignored; numeric labels are labels)."""
    from ithkit._errors import InputError

    path = tmp_path / "x.h5ad"
    _h5ad_case(tissue_h5ad, path, spatial_edit, obs_edit)
    if message is None:
        check_reader("h5ad", _analyse, path, path.read_bytes())
        assert _analyse(path).metric("n_cells") == 120
    else:
        with pytest.raises(InputError, match=re.escape(message)):
            _analyse(path)


@given(spatial_edit=SPATIAL_EDITS, obs_edit=OBS_EDITS)
def test_mutated_h5ad_obs_obsm(
    tissue_h5ad: Path, spatial_edit: str, obs_edit: str, tmp_path_factory
) -> None:
    """Edits of ``obs`` and ``obsm['spatial']`` together: a result or an InputError."""
    path = tmp_path_factory.mktemp("h5adcase") / "x.h5ad"
    _h5ad_case(tissue_h5ad, path, spatial_edit, obs_edit)
    check_reader("h5ad", _analyse, path, path.read_bytes())
