"""Expression-based copy number: reference-normalised, genome-smoothed profiles per cell.

The pipeline is inferCNV's (Patel et al. 2014; Tirosh et al. 2016) as infercnvpy implements it,
reorganised so that the cells x genes matrix is never densified:

1. counts (or non-log normalised values) are scaled to 10,000 per cell and ``log1p``-transformed,
   one chunk of cells at a time;
2. each gene's log fold change is taken to the range spanned by the reference categories' means
   (0 inside it, the distance to the nearest bound outside) and clipped to +-``lfc_clip``. A zero
   entry of gene g always gives the same value z_g, so the chunk is kept sparse as
   ``lfc - z`` (non-zero only where the cell expressed the gene);
3. the sparse chunk is multiplied by a sparse *smoothing matrix* (genes x windows: window ``j``
   of a chromosome is the pyramid-weighted mean of ``window`` consecutive genes, ``step`` genes
   apart) and the smoothed ``z`` row is added back: exactly the smoothed dense matrix;
4. each cell's profile is centred on its median, and values below ``noise_threshold`` standard
   deviations of the whole matrix are set to 0, so ``.obsm['X_cnv']`` is sparse.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ithkit._errors import InputError
from ithkit._resources import check_memory
from ithkit.io._anndata import check_anndata, obs_column
from ithkit.singlecell._chunked import (
    cnv_memory,
    expression_source,
    matrix_nnz,
    n_windows_upper,
    read_rows,
    row_chunks,
    scan_expression,
)
from ithkit.singlecell._data import HG38_CHROMOSOMES

if TYPE_CHECKING:  # pragma: no cover
    from anndata import AnnData

_LOG = logging.getLogger("ithkit.singlecell")
#: smooth with the numba kernel (when installed): None = from this many cells on, where its
#: one-off compilation pays; True/False force it (tests compare both paths)
_USE_NUMBA: bool | None = None
_NUMBA_MIN_CELLS = 50_000


def _chrom_name(value: Any) -> str:
    s = str(value)
    return s[3:] if s.lower().startswith("chr") else s


def _chrom_order(name: str) -> tuple[int, str]:
    if name.isdigit():
        return (int(name), "")
    special = {"X": 23, "Y": 24, "M": 25, "MT": 25}
    return (special.get(name.upper(), 100), name)


def gene_positions_from_gtf(path: str | Path) -> pd.DataFrame:
    """Gene positions from a GTF file: a frame indexed by gene name and by gene id.

    Returns ``chromosome, start, end`` for every ``gene`` record (rows for both ``gene_name``
    and ``gene_id`` so either naming of ``.var_names`` matches).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> line = 'chr7\\tsrc\\tgene\\t100\\t900\\t.\\t+\\t.\\tgene_id "E1"; gene_name "EGFR";\\n'
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = pathlib.Path(d, "g.gtf"); _ = p.write_text(line)
    ...     int(gene_positions_from_gtf(p).loc["EGFR", "start"])
    100
    """
    p = Path(path)
    if not p.exists():
        raise InputError("GTF file not found", source=p, fix="check the --gtf path")
    try:
        gtf = pd.read_csv(
            p, sep="\t", comment="#", header=None, usecols=[0, 2, 3, 4, 8],
            names=["chromosome", "feature", "start", "end", "attributes"],
            dtype={"chromosome": str, "feature": str, "attributes": str},
        )  # fmt: skip
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"not a GTF file ({exc})", source=p, fix="pass a 9-column GTF") from None
    genes = gtf[gtf["feature"] == "gene"]
    if genes.empty:
        raise InputError("no 'gene' records", source=p, fix="pass a GTF with gene lines")
    rows = []
    for key in ("gene_name", "gene_id"):
        names = genes["attributes"].str.extract(rf'{key} "([^"]+)"', expand=False)
        part = genes.assign(gene=names).dropna(subset=["gene"])
        rows.append(part[["gene", "chromosome", "start", "end"]])
    out = pd.concat(rows).drop_duplicates("gene").set_index("gene")
    return out


def _arm_of(chrom: pd.Series, start: pd.Series) -> np.ndarray:
    arms = []
    for c, s in zip(chrom, start, strict=True):
        info = HG38_CHROMOSOMES.get(c)
        arms.append(c if info is None else f"{c}{'p' if s < info[1] * 1e6 else 'q'}")
    return np.array(arms, dtype=object)


def gene_order(
    adata: AnnData, *, gtf: str | Path | None = None, source: str = "adata"
) -> pd.DataFrame:
    """Genomic position of every gene of ``adata`` that has one, in genome order.

    Returns a frame with ``gene_index`` (column of ``adata``), ``chromosome`` (no ``chr``
    prefix), ``start``, ``end`` and ``arm``.
    """
    if gtf is not None:
        pos = gene_positions_from_gtf(gtf).reindex(adata.var_names.astype(str))
        pos.index = adata.var_names
    else:
        missing = [c for c in ("chromosome", "start", "end") if c not in adata.var.columns]
        if missing:
            raise InputError(
                f".var lacks gene position column(s) {missing}",
                source=source,
                column=missing[0],
                fix="add chromosome, start, end to .var (e.g. infercnvpy.io.genomic_position_"
                "from_gtf) or pass --gtf",
            )
        pos = adata.var[["chromosome", "start", "end"]].copy()
    frame = pd.DataFrame(
        {
            "gene_index": np.arange(adata.n_vars),
            "chromosome": pos["chromosome"].astype(object),
            "start": pd.to_numeric(pos["start"], errors="coerce"),
            "end": pd.to_numeric(pos["end"], errors="coerce"),
        }
    ).dropna()
    frame["chromosome"] = frame["chromosome"].map(_chrom_name)
    keep = frame["chromosome"].map(lambda c: c.upper() not in ("Y", "M", "MT"))
    frame = frame[keep]
    if frame.empty:
        raise InputError(
            "no gene has a genomic position",
            source=source,
            column="chromosome",
            fix="check that .var_names match the GTF gene names, or fill .var chromosome/start",
        )
    if "arm" in adata.var.columns and gtf is None:
        frame["arm"] = adata.var["arm"].astype(str).to_numpy()[frame["gene_index"].to_numpy()]
    else:
        frame["arm"] = _arm_of(frame["chromosome"], frame["start"])
    frame["_order"] = frame["chromosome"].map(_chrom_order)
    frame = frame.sort_values(["_order", "start", "end"], kind="stable").drop(columns="_order")
    return frame.reset_index(drop=True)


def smoothing_matrix(
    genes: pd.DataFrame,
    n_genes: int,
    *,
    window: int = 100,
    step: int = 10,
    kernel: Literal["pyramid", "flat"] = "pyramid",
) -> tuple[sp.csr_matrix, pd.DataFrame]:
    """Sparse genes x windows matrix averaging ``window`` consecutive genes of a chromosome.

    ``kernel="pyramid"`` weighs genes by their distance to the window centre (1, 2, ... , 2, 1;
    inferCNV's and infercnvpy's running mean); ``"flat"`` weighs them equally.

    ``genes`` is the output of :func:`gene_order` (already in genome order); rows of the matrix
    are the columns of the expression matrix, so no reordering of the data is needed. Returns the
    matrix and a frame describing each window (``chromosome, arm, start, end, n_genes``).

    Examples
    --------
    >>> g = pd.DataFrame({"gene_index": [0, 1, 2, 3], "chromosome": ["1"] * 4,
    ...                   "start": [1, 2, 3, 4], "end": [2, 3, 4, 5], "arm": ["1p"] * 4})
    >>> s, w = smoothing_matrix(g, 4, window=2, step=1, kernel="flat")
    >>> s.toarray()[:, 0].tolist(), len(w)
    ([0.5, 0.5, 0.0, 0.0], 3)
    """
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    info = []
    col = 0
    for chrom, part in genes.groupby("chromosome", sort=False):
        idx = part["gene_index"].to_numpy()
        n = len(idx)
        w = min(window, n)
        r = np.arange(1, w + 1)
        weights = (
            np.minimum(r, r[::-1]).astype(np.float32)
            if kernel == "pyramid" and w < n
            else (np.ones(w, dtype=np.float32))
        )
        weights /= weights.sum()
        starts = np.arange(0, n - w + 1, step)
        for s in starts:
            members = idx[s : s + w]
            rows.append(members)
            cols.append(np.full(w, col))
            vals.append(weights)
            arm_values = part["arm"].iloc[s : s + w]
            info.append(
                (
                    chrom,
                    str(arm_values.iloc[w // 2]),
                    int(part["start"].iloc[s]),
                    int(part["end"].iloc[s + w - 1]),
                    w,
                )
            )
            col += 1
    mat = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_genes, col),
        dtype=np.float32,
    )
    windows = pd.DataFrame(info, columns=["chromosome", "arm", "start", "end", "n_genes"])
    return mat, windows


def _bounded_lfc(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, clip: float) -> np.ndarray:
    """Log fold change to the reference range: 0 inside [lo, hi], distance to it outside.

    ``max(v - hi, 0) + min(v - lo, 0)`` (one term is 0 since lo <= hi), in place on float32
    temporaries.
    """
    values = np.asarray(values, dtype=np.float32)
    out = np.subtract(values, hi, dtype=np.float32)
    np.maximum(out, 0.0, out=out)
    below = np.subtract(values, lo, dtype=np.float32)
    np.minimum(below, 0.0, out=below)
    out += below
    np.clip(out, -clip, clip, out=out)
    return out


def _lognorm_chunk(x: sp.csr_matrix, kind: str, target_sum: float = 1e4) -> sp.csr_matrix:
    x = x.astype(np.float32, copy=True)
    if kind.startswith("log"):
        return x
    totals = np.asarray(x.sum(axis=1)).ravel()
    scale = np.divide(target_sum, totals, out=np.zeros_like(totals), where=totals > 0)
    x.data *= np.repeat(scale.astype(np.float32), np.diff(x.indptr))
    np.log1p(x.data, out=x.data)
    return x


def _report(line: str, show: bool) -> None:
    """Log ``line`` (logger ``ithkit.singlecell``) and, when ``show``, write it to stderr."""
    _LOG.info(line)
    if show:
        print(line, file=sys.stderr, flush=True)


def _sparse_from_blocks(
    blocks: list[np.ndarray | None], threshold: float, n_cols: int, *, source: str
) -> sp.csr_matrix:
    """One CSR matrix from dense row blocks, zeroing values with ``|v| < threshold``.

    Each block is released once copied, and the CSR arrays are allocated once (their pages are
    filled as blocks are released), so the peak is about the larger of the dense blocks and
    the CSR matrix, not their sum. The result equals ``sp.csr_matrix(dense)`` of the stacked,
    thresholded blocks.
    """
    row_nnz = []
    for dense in blocks:
        assert dense is not None
        dense[np.abs(dense) < threshold] = 0.0
        row_nnz.append(np.count_nonzero(dense, axis=1))
    per_row = np.concatenate(row_nnz) if row_nnz else np.zeros(0, dtype=np.int64)
    indptr = np.zeros(per_row.size + 1, dtype=np.int64)
    np.cumsum(per_row, out=indptr[1:])
    nnz = int(indptr[-1])
    index_dtype = np.int32 if max(nnz, n_cols) < np.iinfo(np.int32).max else np.int64
    check_memory(
        nnz * (4 + np.dtype(index_dtype).itemsize),
        what=f"the sparse CNV matrix ({nnz:,} values)",
        fix="raise noise_threshold or use a larger step (fewer windows)",
        source=source,
    )
    data = np.empty(nnz, dtype=np.float32)
    indices = np.empty(nnz, dtype=index_dtype)
    row = 0
    for i, dense in enumerate(blocks):
        assert dense is not None
        r, c = np.nonzero(dense)
        a, b = int(indptr[row]), int(indptr[row + dense.shape[0]])
        data[a:b] = dense[r, c]
        indices[a:b] = c
        row += dense.shape[0]
        blocks[i] = None  # release the dense block
        del dense, r, c
    return sp.csr_matrix(
        (data, indices, indptr.astype(index_dtype)), shape=(per_row.size, n_cols), copy=False
    )


def _smooth_rows(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    s_indptr: np.ndarray,
    s_indices: np.ndarray,
    s_data: np.ndarray,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled by numba; the scipy path is tested against it
    # the sums of scipy's csr_matmat in its order (row by row, a row's entries in order, each
    # gene's windows in order), written straight into the dense block
    for i in range(indptr.shape[0] - 1):
        for jj in range(indptr[i], indptr[i + 1]):
            g = indices[jj]
            v = data[jj]
            for kk in range(s_indptr[g], s_indptr[g + 1]):
                out[i, s_indices[kk]] += v * s_data[kk]


_SMOOTH_KERNEL: list[Callable[..., None] | None] = []


def _smooth_kernel() -> Callable[..., None] | None:
    """The compiled smoothing kernel, or None without numba (scipy path)."""
    if not _SMOOTH_KERNEL:
        import importlib.util

        if importlib.util.find_spec("numba") is None:
            _SMOOTH_KERNEL.append(None)
        else:
            from ithkit._optional import optional_njit

            _SMOOTH_KERNEL.append(optional_njit(nogil=True, cache=True)(_smooth_rows))
    return _SMOOTH_KERNEL[0]


def _smooth_block(xc: sp.csr_matrix, smooth: sp.csr_matrix, *, use_numba: bool) -> np.ndarray:
    """``(xc @ smooth).toarray()`` (float32); with numba without the sparse intermediate."""
    kernel = _smooth_kernel() if use_numba else None
    if kernel is None:
        block = xc @ smooth
        return block.toarray() if sp.issparse(block) else np.asarray(block)
    out = np.zeros((xc.shape[0], smooth.shape[1]), dtype=np.float32)
    kernel(xc.indptr, xc.indices, xc.data.astype(np.float32, copy=False), smooth.indptr,
           smooth.indices, smooth.data.astype(np.float32, copy=False), out)  # fmt: skip
    return out


@dataclass(frozen=True)
class CnvResult:
    """What :func:`infer_cnv` found (also stored in the AnnData).

    Attributes
    ----------
    input_assumed
        What the expression matrix was taken to be (e.g. ``"raw counts from .X"``).
    windows
        One row per CNV window: ``chromosome, arm, start, end, n_genes``.
    subclones
        One row per subclone: ``subclone, n_cells, fraction, gains, losses``.
    arm_profile
        Mean CNV value per subclone (rows) and chromosome arm (columns).
    n_genes_used
        Genes with a position that passed the expression filter.
    malignant_threshold
        CNV score above which cells (correlating with the tumour profile) are malignant.
    """

    input_assumed: str
    windows: pd.DataFrame
    subclones: pd.DataFrame
    arm_profile: pd.DataFrame
    n_genes_used: int
    malignant_threshold: float


def infer_cnv(
    adata: AnnData,
    *,
    reference_key: str,
    reference: Sequence[str] | str,
    layer: str | None = None,
    gtf: str | Path | None = None,
    window: int = 100,
    step: int = 10,
    kernel: Literal["pyramid", "flat"] = "pyramid",
    min_cells_fraction: float = 0.01,
    lfc_clip: float = 3.0,
    noise_threshold: float = 1.5,
    n_subclones: int | None = None,
    max_subclones: int = 8,
    event_threshold: float | None = None,
    key_added: str = "cnv",
    malignant_key: str = "malignant",
    subclone_key: str = "subclone",
    chunk_size: int = 5000,
    seed: int | None = 0,
    copy: bool = False,
    show_progress: bool = False,
    source: str = "adata",
) -> AnnData:
    """Infer copy-number profiles, malignant cells and CNV subclones from scRNA-seq.

    Parameters
    ----------
    adata
        Cells x genes; raw counts or non-log normalised values in ``layer``,
        ``layers['counts']`` or ``.X`` (sparse stays sparse). Gene positions from ``.var``
        columns ``chromosome, start, end`` (optional ``arm``) or from ``gtf``.
    reference_key
        ``.obs`` column holding cell types.
    reference
        Categories of ``reference_key`` that are normal (e.g. ``["T cell", "macrophage"]``).
    layer
        Layer to read instead of ``layers['counts']`` / ``.X``.
    gtf
        GTF file giving gene positions (matched on gene name or id).
    window, step
        Genes averaged per window, and genes between window starts (infercnvpy: 100, 10).
    kernel
        Weights of the running mean (see :func:`smoothing_matrix`).
    min_cells_fraction
        Genes detected in fewer cells than this fraction are left out.
    lfc_clip
        Gene-level log fold changes are clipped to +-``lfc_clip`` before smoothing (infercnvpy: 3).
    noise_threshold
        Values within this many standard deviations of 0 are set to 0 (infercnvpy: 1.5).
    n_subclones
        Fixed number of CNV clusters; default: chosen by BIC (1..``max_subclones``), then
        clusters with the same arm-level events are merged.
    max_subclones
        Upper bound on the clusters tried.
    event_threshold
        Mean CNV value of an arm above which a subclone gains it (below minus, loses it);
        default 0.4 x the largest absolute arm mean among subclones (at least 0.02).
    key_added
        Names: ``.obsm['X_<key_added>']``, ``.obs['<key_added>_score']``, ``.uns[key_added]``.
    malignant_key, subclone_key
        ``.obs`` columns for the malignant call (bool) and the subclone (categorical, empty for
        non-malignant cells).
    chunk_size
        Cells processed at a time (bounds memory).
    seed
        Seed of the clustering.
    copy
        Work on a copy instead of ``adata``.
    show_progress
        Show a progress bar over chunks.
    source
        Name used in error messages (file path).

    Returns
    -------
    AnnData
        ``adata`` (or its copy) with the results; ``.uns[key_added]`` holds the windows, the
        subclone table, the arm profile, the input assumed and the parameters.

    Examples
    --------
    >>> from ithkit.singlecell import simulate_scrna
    >>> a = simulate_scrna(600, 2000, n_subclones=2, seed=3)
    >>> a = infer_cnv(a, reference_key="cell_type", reference=["T cell", "macrophage"],
    ...               window=25, step=5)
    >>> bool((a.obs["malignant"] == a.obs["true_malignant"]).mean() > 0.95)
    True
    """
    check_anndata(adata, source=source)
    refs = [reference] if isinstance(reference, str) else list(reference)
    if not refs:
        raise InputError("no reference category given", source=source, fix="pass --reference")
    labels = obs_column(adata, reference_key, source=source).astype(str).to_numpy()
    present = set(labels)
    absent = [r for r in refs if r not in present]
    if absent:
        shown = ", ".join(sorted(present)[:10])
        raise InputError(
            f"reference categor{'y' if len(absent) == 1 else 'ies'} {absent} not in "
            f".obs[{reference_key!r}] (categories: {shown})",
            source=source,
            column=reference_key,
            fix="use categories that exist, comma-separated",
        )
    if window < 1 or step < 1:
        raise InputError("window and step must be >= 1", source="window/step", fix="e.g. 100, 10")
    if copy:
        adata = adata.copy()
    matrix, where = expression_source(adata, layer=layer, source=source)
    genes = gene_order(adata, gtf=gtf, source=source)
    n, n_vars = adata.n_obs, adata.n_vars
    chunks = row_chunks(n, chunk_size)
    is_ref = np.isin(labels, refs)
    cell_ref_code = np.full(n, -1, dtype=np.int64)
    cell_ref_code[is_ref] = pd.Categorical(labels[is_ref], categories=refs).codes

    # memory: the estimate before any work (the input is already loaded, or read block-wise)
    n_win = n_windows_upper(genes.groupby("chromosome", sort=False).size().tolist(), window, step)
    estimate = cnv_memory(n, n_vars, matrix_nnz(matrix), n_win, chunk_size=chunk_size,
                          n_reference=len(refs))  # fmt: skip
    _report(f"CNV: {n:,} cells x {n_vars:,} genes, {len(chunks)} chunk(s) of <= {chunk_size:,} "
            f"cells; memory {estimate.describe()}", show_progress)  # fmt: skip
    check_memory(
        estimate.total_bytes,
        what=f"CNV inference on {n:,} cells x {n_win:,} windows",
        fix="use a larger step (fewer windows), a smaller chunk_size, or a machine with more "
        "memory",
        source=source,
    )

    from ithkit._progress import progress

    with progress(show_progress, "CNV: reading input", len(chunks)) as advance:
        scan = scan_expression(
            matrix, where, n_vars=n_vars, chunks=chunks, ref_codes=cell_ref_code,
            n_ref=len(refs), lognorm=_lognorm_chunk, source=source, advance=advance,
        )  # fmt: skip
    assumed = scan.kind
    kind = assumed.split(" from ")[0]
    detected = scan.detected / n
    genes = genes[detected[genes["gene_index"].to_numpy()] >= min_cells_fraction]
    genes = genes.reset_index(drop=True)
    if len(genes) < 2:
        raise InputError(
            f"only {len(genes)} positioned gene(s) are detected in >= {min_cells_fraction:.0%} "
            "of cells",
            source=source,
            fix="lower min_cells_fraction or check gene names and positions",
        )
    smooth, windows = smoothing_matrix(genes, n_vars, window=window, step=step,
                                       kernel=kernel)  # fmt: skip

    # per-gene log-expression means of each reference category (reference cells only)
    counts = np.bincount(cell_ref_code[is_ref], minlength=len(refs)).astype(np.float64)[:, None]
    ref_mean = scan.ref_sums() / counts
    lo_bound = ref_mean.min(axis=0).astype(np.float32)
    hi_bound = ref_mean.max(axis=0).astype(np.float32)
    # log fold change of a zero entry, per gene, and its smoothed row (shared by all cells)
    zero_lfc = _bounded_lfc(np.zeros(n_vars, np.float32), lo_bound, hi_bound, lfc_clip)
    zero_row = np.asarray(zero_lfc @ smooth).ravel().astype(np.float32)

    # arm means are taken before the noise filter: averaging over an arm removes the noise
    arms = list(dict.fromkeys(windows["arm"]))
    arm_idx = pd.Categorical(windows["arm"], categories=arms).codes
    arm_avg = sp.csr_matrix(
        (1.0 / np.bincount(arm_idx)[arm_idx], (np.arange(len(arm_idx)), arm_idx)),
        shape=(len(arm_idx), len(arms)),
        dtype=np.float32,
    )
    arm_values = np.empty((n, len(arms)), dtype=np.float32)
    use_numba = _USE_NUMBA if _USE_NUMBA is not None else n >= _NUMBA_MIN_CELLS
    blocks: list[np.ndarray | None] = []
    total = 0.0
    with progress(show_progress, "CNV: smoothing chunks", len(chunks)) as advance:
        for lo, hi in chunks:
            # bounded, clipped log fold changes stay sparse: only non-zero entries differ
            # from the per-gene value of a zero entry, which is added back after smoothing
            xc = _lognorm_chunk(read_rows(matrix, lo, hi), kind)
            genes_of = xc.indices
            xc.data = (
                _bounded_lfc(xc.data, lo_bound[genes_of], hi_bound[genes_of], lfc_clip)
                - zero_lfc[genes_of]
            )
            dense = _smooth_block(xc, smooth, use_numba=use_numba)
            del xc
            dense += zero_row
            dense -= np.median(dense, axis=1, keepdims=True)
            arm_values[lo:hi] = np.asarray(arm_avg.T @ dense.T).T
            total += float(np.sum(dense, dtype=np.float64))
            blocks.append(dense)
            del dense
            advance()
    # noise filter: values within noise_threshold standard deviations of the whole matrix
    # (float64 sums over the blocks) are set to 0, block by block, into one CSR matrix
    mean = total / max(1, n * smooth.shape[1])
    squares = 0.0
    for kept in blocks:
        assert kept is not None
        dev = kept.astype(np.float64).ravel()
        dev -= mean
        squares += float(dev @ dev)
        del dev, kept
    sd = float(np.sqrt(squares / max(1, n * smooth.shape[1])))
    x_cnv = _sparse_from_blocks(blocks, noise_threshold * sd, smooth.shape[1], source=source)
    score = np.concatenate(
        [np.asarray(abs(x_cnv[lo:hi]).mean(axis=1)).ravel() for lo, hi in chunks]
    )

    malignant, threshold = _call_malignant(x_cnv, score, is_ref, chunk_size=chunk_size)
    sub, table, arm_profile = _subclones(
        arm_values, malignant, arms, n_subclones=n_subclones, max_subclones=max_subclones,
        event_threshold=event_threshold, seed=seed,
    )  # fmt: skip
    adata.obsm[f"X_{key_added}"] = x_cnv
    adata.obs[f"{key_added}_score"] = score
    adata.obs[malignant_key] = malignant
    adata.obs[subclone_key] = pd.Categorical(
        pd.Series(sub).replace("", None), categories=list(table["subclone"])
    )
    adata.uns[key_added] = {
        "input_assumed": assumed,
        "reference_key": reference_key,
        "reference": refs,
        "window": window,
        "step": step,
        "n_genes_used": len(genes),
        "malignant_threshold": threshold,
        "chr_pos": {
            str(c): int(i)
            for c, i in windows.groupby("chromosome", sort=False).groups.items()
            for i in [min(i)]
        },
        "windows": windows,
        "subclones": table,
        "arm_profile": arm_profile.reset_index(),
    }
    return adata


def cnv_result(adata: AnnData, *, key_added: str = "cnv") -> CnvResult:
    """The :class:`CnvResult` stored by :func:`infer_cnv` in ``adata.uns[key_added]``."""
    if key_added not in adata.uns:
        raise InputError(
            f"no CNV result in .uns[{key_added!r}]",
            source="adata",
            fix="run ithkit.singlecell.infer_cnv first",
        )
    u = adata.uns[key_added]
    prof = pd.DataFrame(u["arm_profile"])
    return CnvResult(
        input_assumed=str(u["input_assumed"]),
        windows=pd.DataFrame(u["windows"]),
        subclones=pd.DataFrame(u["subclones"]),
        arm_profile=prof.set_index("subclone") if "subclone" in prof.columns else prof,
        n_genes_used=int(u["n_genes_used"]),
        malignant_threshold=float(u["malignant_threshold"]),
    )


def _otsu(values: np.ndarray, bins: int = 64) -> float:
    """Threshold that maximises the between-class variance of ``values`` (Otsu 1979)."""
    hist, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres) / np.maximum(w0, 1)
    m1 = (np.sum(hist * centres) - np.cumsum(hist * centres)) / np.maximum(w1, 1)
    between = w0 * w1 * (m0 - m1) ** 2
    return float(edges[1:][int(np.argmax(between))])


def _row_corr(x_cnv: sp.csr_matrix, profile: np.ndarray, chunk_size: int = 5000) -> np.ndarray:
    """Pearson correlation of every row of ``x_cnv`` with ``profile`` (no densification).

    Rows are taken ``chunk_size`` at a time, so the temporaries (float64 values, squares) are
    the size of one block; every row is computed as in one pass.
    """
    top = profile - profile.mean()
    norm_top = float(np.linalg.norm(top)) or 1.0
    unit = top / norm_top
    out = np.empty(x_cnv.shape[0], dtype=np.float64)
    for lo, hi in row_chunks(x_cnv.shape[0], chunk_size):
        part = x_cnv[lo:hi]
        dots = np.asarray(part @ unit).ravel()
        xm = np.asarray(part.mean(axis=1)).ravel()
        sq = np.asarray(part.multiply(part).sum(axis=1)).ravel()
        var = np.maximum(sq - x_cnv.shape[1] * xm**2, 1e-12)
        out[lo:hi] = dots / np.sqrt(var)
    return out


def _mean_of_rows(x_cnv: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """Mean profile of ``rows`` of ``x_cnv`` without copying them.

    The same float32 products and row-ordered sums as ``x_cnv[rows].mean(axis=0)``.
    """
    weight = np.full(rows.size, 1.0 / rows.size, dtype=x_cnv.dtype)
    pick = sp.csr_matrix(
        (weight, (np.zeros(rows.size, dtype=np.int64), rows)), shape=(1, x_cnv.shape[0])
    )
    return np.asarray((pick @ x_cnv).todense()).ravel()


def _call_malignant(
    x_cnv: sp.csr_matrix, score: np.ndarray, is_ref: np.ndarray, *, chunk_size: int = 5000
) -> tuple[np.ndarray, float]:
    """Cells whose CNV profile matches the tumour's: returns the call and the score threshold.

    Candidates score above the 99th percentile of the reference cells; the tumour profile is
    their mean profile. A cell is malignant when its correlation with the tumour profile exceeds
    both the reference cells' 99th percentile and the Otsu split of the other cells'
    correlations (normal non-reference cell types do not share the tumour's gains and losses),
    and its score exceeds the reference median. The profile is re-estimated once from the calls.
    """
    ref_scores = score[is_ref] if is_ref.any() else score
    threshold = float(np.quantile(ref_scores, 0.99))
    called = (score > threshold) & ~is_ref
    if called.sum() < 3:
        return called, threshold
    floor = float(np.median(ref_scores))
    for _ in range(2):
        tumour = _mean_of_rows(x_cnv, np.flatnonzero(called))
        corr = _row_corr(x_cnv, tumour, chunk_size)
        corr_thr = float(np.quantile(corr[is_ref], 0.99)) if is_ref.any() else 0.2
        others = corr[~is_ref]
        if others.size > 10:
            corr_thr = max(corr_thr, _otsu(others))
        new = (corr > corr_thr) & (score > floor) & ~is_ref
        if new.sum() < 3:
            break
        called = new
    return called, threshold


def _arm_sort_key(arm: str) -> tuple[tuple[int, str], str]:
    m = re.match(r"^(.*?)([pq]?)$", arm)
    chrom, part = (m.group(1), m.group(2)) if m else (arm, "")
    return (_chrom_order(chrom), part)


def _events(means: pd.Series, threshold: float) -> tuple[str, str]:
    gains = [a for a, v in means.items() if v > threshold]
    losses = [a for a, v in means.items() if v < -threshold]
    return ",".join(sorted(gains, key=_arm_sort_key)), ",".join(sorted(losses, key=_arm_sort_key))


def _subclones(
    arm_values: np.ndarray,
    malignant: np.ndarray,
    arms: list[str],
    *,
    n_subclones: int | None,
    max_subclones: int,
    event_threshold: float | None,
    seed: int | None,
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Cluster malignant cells on their arm-level CNV means; merge clusters with equal events."""
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    n = len(malignant)
    labels_out = np.full(n, "", dtype=object)
    columns = ["subclone", "n_cells", "fraction", "gains", "losses"]
    idx = np.flatnonzero(malignant)
    if idx.size == 0:
        return labels_out, pd.DataFrame(columns=columns), pd.DataFrame(columns=arms)
    data = arm_values[idx].astype(np.float64)
    # cluster in the leading principal components of the arm means (denoised)
    centred = data - data.mean(axis=0)
    with threadpool_limits(limits=1):
        _, svals, vt = np.linalg.svd(centred[:: max(1, len(centred) // 20_000)],
                                     full_matrices=False)  # fmt: skip
    n_pc = max(1, min(int(np.sum(svals > 0.05 * svals[0])), 10))
    reduced = centred @ vt[:n_pc].T
    rng = np.random.default_rng(seed)
    fit_rows = idx.size if idx.size <= 20_000 else 20_000
    fit = (
        reduced[rng.choice(idx.size, size=fit_rows, replace=False)]
        if fit_rows < idx.size
        else reduced
    )
    ks = [n_subclones] if n_subclones else list(range(1, max_subclones + 1))
    ks = [k for k in ks if k <= max(1, len(fit) // 10)] or [1]
    best: tuple[float, Any] | None = None
    for k in ks:
        with threadpool_limits(limits=1):
            model = GaussianMixture(k, covariance_type="diag", n_init=2, random_state=seed,
                                    reg_covar=1e-5).fit(fit)  # fmt: skip
            bic = float(model.bic(fit))
        if best is None or bic < best[0]:
            best = (bic, model)
    assert best is not None
    cluster = best[1].predict(reduced)
    frame = pd.DataFrame(data, columns=arms)
    means = frame.groupby(cluster).mean()
    thr = event_threshold
    if thr is None:
        thr = max(0.02, 0.4 * float(np.abs(means.to_numpy()).max()))
    calls = {c: _events(means.loc[c], thr) for c in means.index}
    groups: dict[tuple[str, str], list[int]] = {}
    for c, ev in calls.items():
        groups.setdefault(ev, []).append(int(c))
    merged = np.empty(len(cluster), dtype=object)
    ordered = sorted(groups.items(), key=lambda kv: -int(np.isin(cluster, kv[1]).sum()))
    rows = []
    profile_rows = {}
    for i, ((gains, losses), members) in enumerate(ordered):
        name = f"SC{i + 1}"  # SC: single-cell CNV subclone (C: inferred genomic clones)
        sel = np.isin(cluster, members)
        merged[sel] = name
        rows.append((name, int(sel.sum()), float(sel.mean()), gains, losses))
        profile_rows[name] = frame[sel].mean()
    labels_out[idx] = merged
    table = pd.DataFrame(rows, columns=columns)
    table["fraction"] = table["n_cells"] / idx.size
    arm_profile = pd.DataFrame(profile_rows).T
    arm_profile.index.name = "subclone"
    return labels_out, table, arm_profile


def subclone_tree(subclones: pd.DataFrame) -> pd.DataFrame:
    """A tree of CNV subclones from their arm-level events (nested event sets).

    The root ``normal`` has one child, ``trunk``, carrying the events every subclone shares;
    each subclone hangs below the subclone whose events are the largest proper subset of its
    own (or below the trunk). Returns ``node, parent, events`` where ``events`` are the events
    gained on the edge into the node (``+1q``, ``-3p``...).

    Examples
    --------
    >>> t = pd.DataFrame({"subclone": ["SC1", "SC2"], "gains": ["7p,1q", "7p"],
    ...                   "losses": ["10q", "10q"]})
    >>> subclone_tree(t)[["node", "parent", "events"]].values.tolist()
    [['trunk', 'normal', '+7p,-10q'], ['SC1', 'SC2', '+1q'], ['SC2', 'trunk', '']]
    """

    def events(row: pd.Series) -> set[str]:
        gains = {f"+{a}" for a in str(row["gains"]).split(",") if a and a != "nan"}
        losses = {f"-{a}" for a in str(row["losses"]).split(",") if a and a != "nan"}
        return gains | losses

    sets = {str(r["subclone"]): events(r) for _, r in subclones.iterrows()}
    if not sets:
        return pd.DataFrame(columns=["node", "parent", "events"])
    trunk = set.intersection(*sets.values())

    def fmt(ev: set[str]) -> str:
        return ",".join(sorted(ev, key=lambda e: (e[0] == "-", _arm_sort_key(e[1:]))))

    rows = [("trunk", "normal", fmt(trunk))]
    for name, ev in sets.items():
        parents = [(len(o), other) for other, o in sets.items() if other != name and o < ev]
        parent = max(parents)[1] if parents else "trunk"
        base = sets[parent] if parent != "trunk" else trunk
        rows.append((name, parent, fmt(ev - base)))
    return pd.DataFrame(rows, columns=["node", "parent", "events"])
