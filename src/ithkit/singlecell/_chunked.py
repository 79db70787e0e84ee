"""Chunked access to a cells x genes matrix (in memory or backed on disk) and memory estimates.

:func:`ithkit.singlecell.infer_cnv` reads the expression matrix one block of cells at a time, so
the same code serves an in-memory AnnData and one opened with ``anndata.read_h5ad(path,
backed="r")`` (only the block being processed is then in memory). The input checks of
:func:`ithkit.singlecell._data.expression_matrix` are made block by block here, with the same
outcome and messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ithkit._errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from anndata import AnnData

#: bytes per stored value of the CNV matrix: float32 value + int32 column index
_CSR_VALUE_BYTES = 8


def expression_source(
    adata: AnnData, *, layer: str | None = None, source: str = "adata"
) -> tuple[Any, str]:
    """The expression matrix as stored (not loaded or converted) and where it was found.

    ``layer`` if given, else ``layers['counts']`` if present, else ``.X`` (a backed dataset when
    ``adata`` is backed). A sparse matrix that is not CSR is converted to CSR once.
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
    if sp.issparse(matrix) and matrix.format != "csr":
        matrix = sp.csr_matrix(matrix)
    return matrix, where


def read_rows(matrix: Any, lo: int, hi: int) -> sp.csr_matrix:
    """Rows ``lo:hi`` as a float32 CSR matrix (from memory or from a backed dataset)."""
    block = matrix[lo:hi]
    if not sp.issparse(block):
        return sp.csr_matrix(np.asarray(block), dtype=np.float32)
    block = sp.csr_matrix(block)
    return block if block.dtype == np.float32 else block.astype(np.float32)


def row_chunks(n: int, chunk_size: int) -> list[tuple[int, int]]:
    """``(lo, hi)`` bounds of consecutive blocks of at most ``chunk_size`` rows.

    Examples
    --------
    >>> row_chunks(5, 2)
    [(0, 2), (2, 4), (4, 5)]
    """
    if chunk_size < 1:
        raise InputError(
            f"chunk_size is {chunk_size}", source="chunk_size", fix="pass a chunk size >= 1"
        )
    return [(lo, min(n, lo + chunk_size)) for lo in range(0, n, chunk_size)]


@dataclass
class ExpressionScan:
    """What one pass over the expression matrix found (see :func:`scan_expression`)."""

    kind: str
    detected: np.ndarray
    ref_sums_lognorm: np.ndarray
    ref_sums_as_is: np.ndarray | None

    def ref_sums(self) -> np.ndarray:
        """Per reference category and gene: the sum of the log-expression used by the CNV."""
        if self.kind.startswith("log"):
            assert self.ref_sums_as_is is not None
            return self.ref_sums_as_is
        return self.ref_sums_lognorm


def scan_expression(
    matrix: Any,
    where: str,
    *,
    n_vars: int,
    chunks: list[tuple[int, int]],
    ref_codes: np.ndarray,
    n_ref: int,
    lognorm: Callable[[sp.csr_matrix, str], sp.csr_matrix],
    source: str,
    advance: Callable[[], None] = lambda: None,
) -> ExpressionScan:
    """One pass over the matrix: input checks, kind of values, detection and reference sums.

    ``ref_codes`` holds, per cell, its reference category (0..``n_ref``-1) or -1. The sums per
    category and gene are accumulated cell by cell in float64 (``np.add.at`` keeps the order of
    a one-block sparse product, so the result does not depend on ``chunks``). Both the
    normalised-and-``log1p`` values and the values as they are are summed until the values are
    known not to be log-normalised (a value above 30).
    """
    detected = np.zeros(n_vars, dtype=np.int64)
    sums_norm = np.zeros(n_ref * n_vars, dtype=np.float64)
    sums_as_is: np.ndarray | None = np.zeros(n_ref * n_vars, dtype=np.float64)
    finite, any_values, integer = True, False, True
    lowest, highest = np.inf, -np.inf
    for lo, hi in chunks:
        x = read_rows(matrix, lo, hi)
        data = x.data
        detected += np.bincount(x.indices, minlength=n_vars)
        if data.size:
            any_values = True
            if not np.isfinite(data).all():
                finite = False
            else:
                lowest = min(lowest, float(data.min()))
                highest = max(highest, float(data.max()))
                integer = integer and bool(np.all(data == np.round(data)))
        codes = ref_codes[lo:hi]
        local = np.flatnonzero(codes >= 0)
        if local.size and finite:
            part = x[local]
            row_code = np.repeat(codes[local].astype(np.int64), np.diff(part.indptr))
            flat = row_code * n_vars + part.indices
            normed = lognorm(part, "raw counts")
            np.add.at(sums_norm, flat, normed.data.astype(np.float64))
            if sums_as_is is not None:
                np.add.at(sums_as_is, flat, part.data.astype(np.float64))
        if sums_as_is is not None and highest > 30:
            sums_as_is = None  # not log-normalised: the as-is sums are never needed
        advance()
    if not finite:
        raise InputError(
            f"{where} holds NaN or infinite values",
            source=source,
            fix="replace missing expression by 0",
        )
    if any_values and lowest < 0:
        raise InputError(
            f"{where} holds negative values (min {lowest:.3g})",
            source=source,
            fix="pass counts or non-log normalised expression, not scaled/centred data",
        )
    if not any_values or integer:
        kind = "raw counts"
    elif highest > 30:
        kind = "normalised (non-log)"
    else:
        kind = "log-normalised"
    return ExpressionScan(
        kind=f"{kind} from {where}",
        detected=detected,
        ref_sums_lognorm=sums_norm.reshape(n_ref, n_vars),
        ref_sums_as_is=None if sums_as_is is None else sums_as_is.reshape(n_ref, n_vars),
    )


def matrix_nnz(matrix: Any) -> int:
    """Stored values of a sparse matrix or backed sparse dataset (all cells for a dense one)."""
    if sp.issparse(matrix):
        return int(matrix.nnz)
    group = getattr(matrix, "group", None)
    if group is not None and "data" in group:
        return int(group["data"].shape[0])
    return int(np.prod(getattr(matrix, "shape", (0, 0))))


def n_windows_upper(genes_per_chromosome: Iterator[int] | list[int], window: int, step: int) -> int:
    """Windows :func:`ithkit.singlecell.smoothing_matrix` makes at most for these chromosomes.

    Examples
    --------
    >>> n_windows_upper([1000, 50], 100, 10)
    92
    """
    total = 0
    for n in genes_per_chromosome:
        w = min(window, n)
        total += (n - w) // step + 1
    return total


@dataclass(frozen=True)
class CnvMemory:
    """Expected peak memory of :func:`ithkit.singlecell.infer_cnv`, bytes per part.

    Attributes
    ----------
    input_bytes
        The expression matrix held in memory (0 when it is read from disk block by block, or
        when it is already loaded and so not new memory).
    chunk_bytes
        One block of cells: its sparse copies and its smoothed windows.
    profile_bytes
        The CNV profile of every cell (cells x windows, float32), before it is made sparse.
    other_bytes
        Per-cell arm means, scores and clustering inputs, and the reference sums.
    """

    input_bytes: float
    chunk_bytes: float
    profile_bytes: float
    other_bytes: float

    @property
    def total_bytes(self) -> float:
        """The expected peak (the sparse CNV matrix replaces the dense profile block by block,
        so at a density up to 50% it does not add to the peak)."""
        return self.input_bytes + self.chunk_bytes + self.profile_bytes + self.other_bytes

    def describe(self) -> str:
        """One line: the total and its parts in GB."""
        parts = [
            ("input", self.input_bytes),
            ("chunk", self.chunk_bytes),
            ("profiles", self.profile_bytes),
            ("other", self.other_bytes),
        ]
        shown = ", ".join(f"{k} {v / 1e9:.2f}" for k, v in parts if v > 0)
        return f"about {self.total_bytes / 1e9:.2f} GB ({shown})"


def cnv_memory(
    n_cells: int,
    n_genes: int,
    nnz: int,
    n_windows: int,
    *,
    chunk_size: int,
    n_reference: int = 2,
    input_bytes: float = 0.0,
) -> CnvMemory:
    """Estimate the peak memory of CNV inference from the shape of the input.

    Parameters
    ----------
    n_cells, n_genes
        Shape of the expression matrix.
    nnz
        Its stored (non-zero) values.
    n_windows
        CNV windows (at most ``n_genes / step`` plus one per chromosome).
    chunk_size
        Cells processed at a time.
    n_reference
        Reference categories.
    input_bytes
        Memory the expression matrix itself takes when it must be loaded (0 when backed or
        already in memory).

    Returns
    -------
    CnvMemory
        The estimate by part.

    Examples
    --------
    >>> m = cnv_memory(500_000, 20_000, 750_000_000, 1_900, chunk_size=5_000)
    >>> round(m.total_bytes / 1e9, 1)
    4.8
    """
    chunk = min(chunk_size, n_cells)
    per_cell = nnz / max(n_cells, 1)
    # the block's sparse slice, float32 copy, log-normalised copy and product operands (value +
    # index, ~5 copies); the smoothed product (sparse, nearly full: value + index), its dense
    # copy and the median/centring temporaries (float32 x 3); float64 copies for the noise sd
    chunk_bytes = chunk * per_cell * 8 * 5 + chunk * n_windows * (8 + 4 * 3 + 8)
    profile_bytes = float(n_cells) * n_windows * 4
    # arm means (~45 arms, float32 + float64 copies), scores, calls, clustering inputs
    other_bytes = n_cells * (45 * 12 + 10 * 8 * 3 + 64) + n_reference * n_genes * 8 * 3
    return CnvMemory(
        input_bytes=float(input_bytes),
        chunk_bytes=float(chunk_bytes),
        profile_bytes=profile_bytes,
        other_bytes=float(other_bytes),
    )


@dataclass(frozen=True)
class H5adMatrixInfo:
    """Shape and storage of the expression matrix of an ``.h5ad`` file, read without loading it.

    ``where`` is the group read (``layers/counts`` or ``X``); ``in_memory_bytes`` what loading
    the file's matrix (and the rest of its layers and ``.X``) takes.
    """

    n_cells: int
    n_genes: int
    nnz: int
    where: str
    sparse: bool
    in_memory_bytes: float


def h5ad_matrix_info(path: str | Path, *, layer: str | None = None) -> H5adMatrixInfo | None:
    """Read the shape, stored values and size of the matrix ``infer_cnv`` would use.

    Returns ``None`` when the file cannot be inspected this way (then it is simply read).
    """
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py comes with anndata
        return None
    try:
        with h5py.File(path, "r") as f:
            layers = f.get("layers")
            names = list(layers.keys()) if layers is not None else []
            if layer is not None:
                if layer not in names:
                    return None
                key = f"layers/{layer}"
            elif "counts" in names:
                key = "layers/counts"
            elif "X" in f:
                key = "X"
            else:
                return None
            total = 0.0
            for k in ["X", *(f"layers/{n}" for n in names)]:
                if k in f:
                    total += _stored_bytes(f[k])
            node = f[key]
            if isinstance(node, h5py.Group):
                shape = tuple(int(v) for v in node.attrs["shape"])
                nnz = int(node["data"].shape[0])
                sparse = True
            else:
                shape = tuple(int(v) for v in node.shape)
                nnz = int(np.prod(shape))
                sparse = False
            return H5adMatrixInfo(shape[0], shape[1], nnz, key, sparse, total)
    except (OSError, KeyError, ValueError, TypeError):
        return None


def _stored_bytes(node: Any) -> float:
    """In-memory size of a dense dataset or a sparse group (data + indices + indptr)."""
    if hasattr(node, "dtype"):
        return float(np.prod(node.shape)) * node.dtype.itemsize
    total = 0.0
    for part in ("data", "indices", "indptr"):
        if part in node:
            # a loaded sparse matrix keeps float32/int32 at least as wide as stored
            total += float(node[part].shape[0]) * node[part].dtype.itemsize
    return total


@dataclass(frozen=True)
class CnvPlan:
    """How ``ithkit singlecell cnv`` reads a file, and the memory it expects (bytes).

    Attributes
    ----------
    backed
        Read ``.X`` block by block from the file (``anndata`` backed mode) instead of loading it.
    memory
        The estimate for the chosen way (see :class:`CnvMemory`).
    budget_bytes
        The memory one computation may plan to use (half the available memory).
    n_cells, n_genes, nnz
        Shape and stored values of the expression matrix.
    """

    backed: bool
    memory: CnvMemory
    budget_bytes: float
    n_cells: int
    n_genes: int
    nnz: int

    def describe(self) -> str:
        """One line for the command's output."""
        how = "read block by block from the file (backed)" if self.backed else "loaded"
        return (
            f"{self.memory.describe()}; {self.n_cells:,} cells x {self.n_genes:,} genes, "
            f"{self.nnz:,} stored values, {how}; budget {self.budget_bytes / 1e9:.1f} GB"
        )


def plan_cnv(
    path: str | Path,
    *,
    layer: str | None = None,
    window: int = 100,
    step: int = 10,
    chunk_size: int = 5000,
    backed: bool | None = None,
) -> CnvPlan:
    """Estimate the memory of CNV inference on an ``.h5ad`` file before reading it.

    Reads only the file's metadata. ``backed=None`` loads the file when that fits in half the
    available memory (faster: one read) and otherwise reads ``.X`` block by block; a layer
    (``layers['counts']``) is always loaded (anndata keeps layers in memory). Raises
    :class:`InputError` when the chosen way does not fit.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from ithkit.singlecell import simulate_scrna
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.h5ad"
    >>> simulate_scrna(300, 500, seed=0).write_h5ad(p)
    >>> plan_cnv(p).backed
    False
    """
    from ithkit._resources import MEMORY_FRACTION, available_memory_bytes, check_memory

    info = h5ad_matrix_info(path, layer=layer)
    if info is None:  # not inspectable: read it as before, the work is checked once loaded
        return CnvPlan(False, CnvMemory(0.0, 0.0, 0.0, 0.0), 0.0, 0, 0, 0)
    n_windows = min(info.n_genes, info.n_genes // max(step, 1) + 25)
    budget = MEMORY_FRACTION * available_memory_bytes()
    work = cnv_memory(info.n_cells, info.n_genes, info.nnz, n_windows, chunk_size=chunk_size)
    loaded = CnvMemory(info.in_memory_bytes, work.chunk_bytes, work.profile_bytes,
                       work.other_bytes)  # fmt: skip
    can_back = info.where == "X" and info.sparse
    # backed: the layers (if any) are still loaded by anndata, .X is not
    x_bytes = 0.0
    if can_back:
        x_bytes = info.in_memory_bytes - _layers_bytes(path)
    on_disk = CnvMemory(info.in_memory_bytes - x_bytes, work.chunk_bytes, work.profile_bytes,
                        work.other_bytes)  # fmt: skip
    use_backed = (
        backed if backed is not None else (can_back and loaded.total_bytes > budget)
    ) and can_back
    chosen = on_disk if use_backed else loaded
    plan = CnvPlan(use_backed, chosen, budget, info.n_cells, info.n_genes, info.nnz)
    check_memory(
        chosen.total_bytes,
        what=f"CNV inference on {info.n_cells:,} cells x {info.n_genes:,} genes "
        f"({'backed' if use_backed else 'loaded'})",
        fix="pass --backed (sparse .X only), a smaller --chunk-size or a larger --step",
        source=str(path),
    )
    return plan


def _layers_bytes(path: str | Path) -> float:
    import h5py

    with h5py.File(path, "r") as f:
        layers = f.get("layers")
        return sum(_stored_bytes(layers[k]) for k in layers) if layers is not None else 0.0
