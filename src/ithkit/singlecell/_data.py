"""AnnData input helpers shared by :mod:`ithkit.singlecell` and :mod:`ithkit.spatial`.

anndata is the ``[singlecell]`` extra: it is imported inside the functions that need it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ithkit._errors import InputError
from ithkit._optional import import_optional

if TYPE_CHECKING:  # pragma: no cover
    from anndata import AnnData

# approximate hg38 chromosome lengths and centromere midpoints (Mb), used for arm labels
HG38_CHROMOSOMES: dict[str, tuple[float, float]] = {
    "1": (248.9, 123.4), "2": (242.2, 93.9), "3": (198.3, 90.9), "4": (190.2, 50.0),
    "5": (181.5, 48.8), "6": (170.8, 59.8), "7": (159.3, 60.1), "8": (145.1, 45.2),
    "9": (138.4, 43.0), "10": (133.8, 39.8), "11": (135.1, 53.4), "12": (133.3, 35.5),
    "13": (114.4, 17.7), "14": (107.0, 17.2), "15": (102.0, 19.0), "16": (90.3, 36.8),
    "17": (83.3, 25.1), "18": (80.4, 18.5), "19": (58.6, 26.2), "20": (64.4, 28.1),
    "21": (46.7, 12.0), "22": (50.8, 15.0), "X": (156.0, 60.6),
}  # fmt: skip


def anndata_module() -> Any:
    """The anndata module, or an error naming the ``[singlecell]`` extra."""
    return import_optional("anndata", extra="singlecell")


def read_h5ad(path: str | Path) -> AnnData:
    """Read an ``.h5ad`` file, turning a missing or unreadable file into :class:`InputError`."""
    ad = anndata_module()
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", source=p, fix="check the path of the .h5ad file")
    try:
        return ad.read_h5ad(p)
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


def expression_matrix(
    adata: AnnData, *, layer: str | None = None, source: str = "adata"
) -> tuple[sp.csr_matrix, str]:
    """The expression matrix (CSR, float32) and what it was taken to be.

    Uses ``layer`` if given, else ``layers['counts']`` if present, else ``.X``. The second value is
    ``"raw counts"`` (all integers), ``"normalised (non-log)"`` or ``"log-normalised"``.
    """
    if layer is not None:
        if layer not in adata.layers:
            raise InputError(
                f"no layer {layer!r} (layers: {', '.join(adata.layers.keys()) or 'none'})",
                source=source,
                column=layer,
                fix="pass an existing layer or leave --layer out to use .X",
            )
        matrix, where = adata.layers[layer], f"layers[{layer!r}]"
    elif "counts" in adata.layers:
        matrix, where = adata.layers["counts"], "layers['counts']"
    else:
        matrix, where = adata.X, ".X"
    if matrix is None:
        raise InputError("no expression matrix", source=source, fix="put counts in .X")
    dtype = getattr(matrix, "dtype", np.dtype(object))
    if not (np.issubdtype(dtype, np.number) or np.issubdtype(dtype, np.bool_)):
        raise InputError(
            f"{where} is not numeric (dtype {dtype})",
            source=source,
            fix="store counts or normalised expression as numbers",
        )
    x = sp.csr_matrix(matrix, dtype=np.float32) if not sp.issparse(matrix) else matrix.tocsr()
    if x.dtype != np.float32:
        x = x.astype(np.float32)
    data = x.data
    if data.size and not np.isfinite(data).all():
        raise InputError(
            f"{where} holds NaN or infinite values",
            source=source,
            fix="replace missing expression by 0",
        )
    if data.size and data.min() < 0:
        raise InputError(
            f"{where} holds negative values (min {float(data.min()):.3g})",
            source=source,
            fix="pass counts or non-log normalised expression, not scaled/centred data",
        )
    if data.size == 0 or np.all(data == np.round(data)):
        kind = "raw counts"
    elif float(data.max()) > 30:
        kind = "normalised (non-log)"
    else:
        kind = "log-normalised"
    return x, f"{kind} from {where}"


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
            f".obsm[{key!r}] must be a numeric (n_cells, 2) array, got shape {xy.shape}",
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
    return xy


def write_h5ad(adata: AnnData, path: str | Path) -> Path:
    """Write ``adata`` atomically (a temporary file renamed into place); returns the path."""
    from ithkit._atomic import atomic_path

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(p, suffix=".h5ad") as tmp:
        adata.write_h5ad(tmp)
    return p
