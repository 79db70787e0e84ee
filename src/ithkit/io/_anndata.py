"""AnnData helpers shared by :mod:`ithkit.singlecell` and :mod:`ithkit.spatial`.

anndata is the ``[singlecell]`` extra: it is imported inside the functions that need it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ithkit._errors import InputError
from ithkit._optional import import_optional

if TYPE_CHECKING:  # pragma: no cover
    from anndata import AnnData


def anndata_module() -> Any:
    """The anndata module, or an error naming the ``[singlecell]`` extra."""
    return import_optional("anndata", extra="singlecell")


def read_h5ad(path: str | Path, *, backed: bool = False) -> AnnData:
    """Read an ``.h5ad`` file, turning a missing or unreadable file into :class:`InputError`.

    ``backed=True`` leaves ``.X`` on disk (``anndata.read_h5ad(path, backed="r")``): it is read
    block by block by the functions that support it.
    """
    ad = anndata_module()
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", source=p, fix="check the path of the .h5ad file")
    try:
        return ad.read_h5ad(p, backed="r") if backed else ad.read_h5ad(p)
    except Exception as exc:  # h5py/anndata raise many kinds
        raise InputError(
            f"not a readable AnnData file ({type(exc).__name__}: {exc})",
            source=p,
            fix="write it with anndata.AnnData.write_h5ad",
        ) from None


def check_anndata(adata: Any, *, source: str = "adata") -> None:
    """Raise :class:`InputError` unless ``adata`` is a non-empty AnnData."""
    ad = anndata_module()
    if not isinstance(adata, ad.AnnData):
        raise InputError(
            f"expected an AnnData, got {type(adata).__name__}",
            source=source,
            fix="read the data with anndata.read_h5ad",
        )
    if adata.n_obs == 0 or adata.n_vars == 0:
        raise InputError(
            f"AnnData is empty ({adata.n_obs} cells x {adata.n_vars} genes)",
            source=source,
            fix="pass an AnnData with cells and genes",
        )


def obs_column(adata: AnnData, key: str, *, source: str = "adata") -> Any:
    """``adata.obs[key]`` or an :class:`InputError` listing the columns there are."""
    if key not in adata.obs.columns:
        cols = ", ".join(map(str, list(adata.obs.columns)[:12])) or "none"
        raise InputError(
            f"no column {key!r} in .obs (columns: {cols})",
            source=source,
            column=key,
            fix="pass the name of an existing .obs column",
        )
    return adata.obs[key]


def coordinates(adata: AnnData, *, key: str = "spatial", source: str = "adata") -> np.ndarray:
    """Cell coordinates ``adata.obsm[key]`` as a float (n, 2) array, or :class:`InputError`."""
    if key not in adata.obsm:
        raise InputError(
            f"no coordinates: .obsm[{key!r}] is missing",
            source=source,
            column=key,
            fix="store x, y per cell in .obsm['spatial'] (squidpy/scanpy convention)",
        )
    xy = np.asarray(adata.obsm[key])
    if xy.ndim != 2 or xy.shape[1] < 2 or not np.issubdtype(xy.dtype, np.number):
        raise InputError(
            f".obsm[{key!r}] must be a numeric (n_cells, 2) array, got shape {xy.shape} "
            f"of {xy.dtype}",
            source=source,
            column=key,
            fix="store x, y per cell as numbers",
        )
    xy = xy[:, :2].astype(float)
    if not np.isfinite(xy).all():
        raise InputError(
            f".obsm[{key!r}] holds NaN or infinite coordinates",
            source=source,
            column=key,
            fix="drop cells without a position",
        )
    if len(xy) > 1 and not np.ptp(xy, axis=0).any():
        raise InputError(
            f".obsm[{key!r}]: all {len(xy)} cells are at one position {tuple(xy[0])}",
            source=source,
            column=key,
            fix="store each cell's own x, y (were placeholder coordinates written?)",
        )
    return xy


def write_h5ad(adata: AnnData, path: str | Path) -> Path:
    """Write ``adata`` atomically (a temporary file renamed into place); returns the path."""
    from ithkit._atomic import atomic_path

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(p, suffix=".h5ad") as tmp:
        adata.write_h5ad(tmp)
    return p


def write_backed_h5ad(adata: AnnData, path: str | Path) -> Path:
    """Write a backed AnnData (``.X`` on disk) without loading ``.X``; returns the path.

    The backing file is copied (streamed) to a temporary file, whose ``obs``, ``obsm`` and
    ``uns`` are replaced by the in-memory ones, then renamed into place. ``.X``, ``var`` and
    ``layers`` are the file's.
    """
    import shutil

    import h5py

    from ithkit._atomic import atomic_path

    ad = anndata_module()
    io_mod = getattr(ad, "io", None)
    write_elem = getattr(io_mod, "write_elem", None) or ad.experimental.write_elem
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    src = Path(adata.filename)
    with atomic_path(p, suffix=".h5ad") as tmp:
        shutil.copyfile(src, tmp)
        with h5py.File(tmp, "r+") as f:
            for key, value in (("obs", adata.obs), ("obsm", dict(adata.obsm)),
                               ("uns", dict(adata.uns))):  # fmt: skip
                if key in f:
                    del f[key]
                write_elem(f, key, value)
    return p
