"""Single-cell input helpers: the expression matrix and chromosome arm positions.

The generic AnnData helpers (reading, checking, writing) live in :mod:`ithkit.io._anndata`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from ithkit._errors import InputError

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


def expression_matrix(
    adata: AnnData, *, layer: str | None = None, source: str = "adata"
) -> tuple[sp.csr_matrix, str]:
    """The expression matrix (CSR, float32) and what it was taken to be.

    Uses ``layer`` if given, else ``layers['counts']`` if present, else ``.X``. The second value is
    ``"raw counts"`` (all integers), ``"normalised (non-log)"`` or ``"log-normalised"``.
    """
    from ithkit.singlecell._chunked import expression_source

    # one rule for which matrix is the expression (layer, counts, .X) and that it is numeric
    matrix, where = expression_source(adata, layer=layer, source=source)
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
