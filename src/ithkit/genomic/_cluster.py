"""Clone inference: a copy-number-aware binomial mixture over all samples at once."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd
from scipy import special

from ithkit._errors import InputError
from ithkit.genomic._ccf import CCF_GRID, _betabinom_logpmf, expected_vaf, hpd_interval


@dataclass(frozen=True)
class ClusterResult:
    """Mutations grouped into clones.

    Attributes
    ----------
    assignments
        ``mutation_id, clone_id, probability`` (posterior probability of the assigned clone).
    clones
        ``clone_id, sample_id, ccf, ccf_low, ccf_high, n_mutations`` (fractions 0..1);
        clones are numbered by decreasing mean CCF (``C1`` has the highest).
    log_likelihood
        Log-likelihood of the data at the fitted parameters.
    n_restarts
        Restarts run; the best by penalised likelihood is kept.
    precision
        Beta-binomial precision of the read model used (None: binomial).
    precision_estimated
        Whether ``precision`` was chosen from the data (``precision="auto"``).
    precision_scores
        ``precision, score, n_clones`` of every candidate read model tried when it was chosen
        from the data (precision NaN = binomial; lower score is better); empty otherwise.
    """

    assignments: pd.DataFrame
    clones: pd.DataFrame
    log_likelihood: float
    n_restarts: int
    precision: float | None = None
    precision_estimated: bool = False
    precision_scores: pd.DataFrame = field(default_factory=pd.DataFrame)


def _arrays(variants: pd.DataFrame) -> tuple[list[str], list[str], dict[str, np.ndarray]]:
    # codes in order of first appearance; a vectorised scatter instead of a MultiIndex
    # reindex (1,000,000 rows: 0.3 s instead of 30 s)
    m_code, m_uniques = pd.factorize(variants["mutation_id"])
    s_code, s_uniques = pd.factorize(variants["sample_id"])
    mutations = [str(x) for x in np.asarray(m_uniques, dtype=object)]
    samples = [str(x) for x in np.asarray(s_uniques, dtype=object)]
    shape = (len(mutations), len(samples))
    cell = m_code * shape[1] + s_code
    if (
        len(variants) != shape[0] * shape[1]
        or (np.bincount(cell, minlength=shape[0] * shape[1]) != 1).any()
    ):
        raise InputError(
            "the variant table is not a complete mutation x sample grid",
            source="variants",
            fix="fill missing rows first (ithkit.genomic.fill_missing does it)",
        )
    order = np.argsort(cell, kind="stable")

    def grid(col: str, default: float | None = None) -> np.ndarray:
        if col not in variants.columns:
            assert default is not None
            return np.full(shape, default)
        values = variants[col].to_numpy(dtype=float, na_value=np.nan)[order]
        if default is not None:
            values = np.where(np.isnan(values), default, values)
        return values.reshape(shape)

    arrays = {
        "alt": grid("alt_counts"),
        "depth": grid("alt_counts") + grid("ref_counts"),
        "major": np.maximum(grid("major_cn"), 1),
        "total": grid("major_cn") + grid("minor_cn"),
        "normal": grid("normal_cn"),
        "purity": grid("tumour_content"),
        "error": grid("error_rate", 1e-3),
    }
    return mutations, samples, arrays


def _log_likelihood_grid(
    arrays: dict[str, np.ndarray],
    grid: np.ndarray,
    options: list[tuple[str, int]],
    precision: float | None,
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """log P(alt | depth, CCF = grid[g], option o) as an (N, S, O, G) array.

    An option is a copy-number scenario and a multiplicity m: ``clonal`` (every cancer cell
    has the reported copy number) or ``mutant`` (only the cells carrying the mutation do; the
    others keep the normal copy number, PyClone's default genotype model). With ``valid``
    (N, O), only the options a mutation may have are computed; the others hold 0 (their
    prior is zero, so they are never used).
    """
    n, s = arrays["alt"].shape
    out = np.zeros((n, s, len(options), grid.shape[-1]))
    # the binomial coefficient does not depend on the CCF: compute it once per (mutation, sample)
    alt_all, depth_all = arrays["alt"], arrays["depth"]
    log_choose_all = (
        special.gammaln(depth_all + 1)
        - special.gammaln(alt_all + 1)
        - special.gammaln(depth_all - alt_all + 1)
    )
    # one CCF grid for all samples (G,) or one per sample (S, G)
    phi = grid[None, None, :] if grid.ndim == 1 else grid[None, :, :]
    for o, (scenario, m) in enumerate(options):
        rows = slice(None) if valid is None else np.flatnonzero(valid[:, o])

        def col(key: str, rows: slice | np.ndarray = rows) -> np.ndarray:
            return arrays[key][rows][..., None]

        alt, depth, p, error = col("alt"), col("depth"), col("purity"), col("error")
        total, normal = col("total"), col("normal")
        mult = np.minimum(m, col("major"))
        if scenario == "clonal":
            f = expected_vaf(phi, mult, p, total, normal, error)
        else:
            v = p * phi * mult / (p * (1 - phi) * normal + p * phi * total + (1 - p) * normal)
            v = np.clip(v, 0.0, 1.0)
            f = v * (1 - error) + (1 - v) * error
        if precision is None:
            # binomial log-pmf without scipy's per-call overhead (f lies strictly in (0, 1)
            # whenever the error rate is positive; clip keeps error 0 finite)
            f = np.clip(f, 1e-300, 1.0 - 1e-16)
            value = log_choose_all[rows][..., None] + alt * np.log(f) + (depth - alt) * np.log1p(-f)
        else:
            f = np.clip(f, 1e-6, 1 - 1e-6)
            value = _betabinom_logpmf(alt, depth, f, precision, log_choose_all[rows][..., None])
        out[rows, :, o, :] = value
    return out


# Candidate read models when the precision is chosen from the data: binomial (None) and
# beta-binomial precisions spaced ~1.6x apart from nearly binomial (1000) to FFPE-like (15).
PRECISION_GRID: tuple[float | None, ...] = (
    None, 1000.0, 600.0, 400.0, 250.0, 150.0, 100.0, 60.0, 40.0, 25.0, 15.0
)  # fmt: skip
# The path stops once this many candidates in a row score worse than the best so far (the
# score is unimodal along the path on virtual patients, with at most one bump from a local
# optimum)
_PATH_PATIENCE = 2

_Search: TypeAlias = tuple[float, np.ndarray, np.ndarray, np.ndarray, float]


def _parse_precision(precision: float | str | None) -> float | Literal["auto"] | None:
    """``"auto"``, ``None``/``"binomial"`` or a positive number (also given as text)."""
    if precision is None:
        return None
    if isinstance(precision, str):
        text = precision.strip().lower()
        if text == "auto":
            return "auto"
        if text == "binomial":
            return None
        try:
            precision = float(text)
        except ValueError:
            raise InputError(
                f"precision is {precision!r}",
                source="precision",
                fix="use auto, binomial or a positive number such as 100",
            ) from None
    value = float(precision)
    if not np.isfinite(value) or value <= 0:
        raise InputError(
            f"precision is {precision}",
            source="precision",
            fix="use auto, binomial or a positive number such as 100",
        )
    return value


def _precision_penalty(n: int, s: int) -> float:
    """Penalty of the one extra parameter of an estimated precision (BIC; AIC with one sample)."""
    return 1.0 if s == 1 else float(np.log(n)) / 2.0


def _model_grid(
    arrays: dict[str, np.ndarray],
    options: list[tuple[str, int]],
    copy_number_model: str,
    n_mult: int,
    precision: float | None,
    grid: np.ndarray = CCF_GRID,
) -> tuple[np.ndarray, np.ndarray]:
    """The (N, S, O, G) log-likelihood grid and the (N, O) log prior of the options.

    A mutation whose copy number differs between samples may have a different genotype in
    each: its options are marginalised sample by sample and the result kept in the first slot.
    """
    s = arrays["alt"].shape[1]
    log_prior_m = _option_prior(arrays, options, copy_number_model, n_mult)
    valid = np.isfinite(log_prior_m)
    loglik = _log_likelihood_grid(arrays, grid, options, precision, valid)
    varies = (arrays["major"] != arrays["major"][:, :1]).any(axis=1) | (
        arrays["total"] != arrays["total"][:, :1]
    ).any(axis=1)
    if varies.any():
        columns = [{k: a[:, j : j + 1] for k, a in arrays.items()} for j in range(s)]
        per_sample = np.stack(
            [_option_prior(c, options, copy_number_model, n_mult) for c in columns], axis=1
        )
        marginal = special.logsumexp(loglik[varies] + per_sample[varies][..., None], axis=2)
        # every slot holds the marginal (finite, so 0-weight slots add 0, not NaN)
        loglik[varies] = marginal[:, :, None, :]
        log_prior_m[varies] = -np.inf
        log_prior_m[varies, 0] = 0.0
    return loglik, log_prior_m


def _copy_number_options(model: str, n_mult: int) -> list[tuple[str, int]]:
    """Copy-number scenario and multiplicity pairs a mutation may have.

    ``both``: the mutation preceded the copy-number change in its own cells (``mutant``,
    multiplicity 1..major) or followed a change all cancer cells share (``clonal``,
    multiplicity 1). A mutation that preceded a change every cancer cell carries has CCF 1,
    where the two scenarios coincide, so this set loses nothing (it is PyClone's).
    """
    if model == "clonal":
        return [("clonal", m) for m in range(1, n_mult + 1)]
    if model == "mutant":
        return [("mutant", m) for m in range(1, n_mult + 1)]
    return [("mutant", m) for m in range(1, n_mult + 1)] + [("clonal", 1)]


def _option_prior(
    arrays: dict[str, np.ndarray], options: list[tuple[str, int]], model: str, n_mult: int
) -> np.ndarray:
    """Uniform log prior over the options valid for each mutation (N, O)."""
    max_major = np.minimum(arrays["major"].max(axis=1), n_mult).astype(int)
    valid = np.array([m for _, m in options])[None, :] <= max_major[:, None]
    if model == "both":  # same likelihood as ("mutant", 1) where the copy number is normal
        unchanged = (arrays["total"] == arrays["normal"]).all(axis=1)
        valid[unchanged, -1] = False
    return np.where(valid, -np.log(valid.sum(axis=1, keepdims=True)), -np.inf)


def _logsumexp_rows(x: np.ndarray) -> np.ndarray:
    """log(sum(exp(x))) over the last axis; a lean version of scipy's (called ~10^4 times)."""
    top = x.max(axis=-1)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return safe + np.log(np.exp(x - safe[..., None]).sum(axis=-1))


def _single_thread_blas() -> contextlib.AbstractContextManager[object]:
    """Limit BLAS to one thread while fitting.

    The products here are small (clones x mutations by mutations x grid); threaded BLAS only
    adds synchronisation, and on a busy machine it made the fit 20x slower (measured).
    threadpoolctl (a scikit-learn dependency) is used when installed.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - depends on the environment
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _kmeanspp(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    centres = [points[rng.integers(len(points))]]
    for _ in range(1, k):
        d2 = np.min([((points - c) ** 2).sum(axis=1) for c in centres], axis=0)
        total = d2.sum()
        if total <= 0:
            break
        centres.append(points[rng.choice(len(points), p=d2 / total)])
    return np.array(centres)


def _annihilation_size(n_samples: int) -> float:
    """Members a clone must hold to survive EM (Figueiredo & Jain 2002 use half its S params).

    Capped at 3: with 10 regions the uncapped rule deletes every clone of <= 5 mutations,
    however distinct its CCFs (a 5-mutation clone was lost at 100 mutations x 10 regions);
    the merge step (:func:`_criterion`) removes spurious ones.
    """
    return min(n_samples / 2.0, 3.0)


@dataclass(frozen=True)
class _Pairs:
    """The (mutation, option) pairs with a finite prior, laid out for the EM.

    Most mutations sit on normal copy number and have a single valid option; dropping the
    impossible pairs makes the EM's products ~(n_options) times smaller than the full grid.
    """

    mutation: np.ndarray  # (P,) mutation index of each pair, sorted
    option: np.ndarray  # (P,) option index of each pair
    log_prior: np.ndarray  # (P,)
    starts: np.ndarray  # (N,) first pair of each mutation
    by_grid: np.ndarray  # (S, G, P) log-likelihood, gathered in the E-step
    flat: np.ndarray  # (P, S * G) log-likelihood, multiplied in the M-step
    shape: tuple[int, int, int, int]  # N, S, M, G of the full grid

    @classmethod
    def build(cls, loglik: np.ndarray, log_prior_m: np.ndarray) -> _Pairs:
        n, s, n_mult, g = loglik.shape
        mutation, option = np.nonzero(np.isfinite(log_prior_m))  # row-major: sorted by mutation
        values = loglik[mutation, :, option, :]  # (P, S, G)
        starts = np.searchsorted(mutation, np.arange(n))
        return cls(
            mutation=mutation,
            option=option,
            log_prior=log_prior_m[mutation, option],
            starts=starts,
            by_grid=np.ascontiguousarray(values.transpose(1, 2, 0)),
            flat=values.reshape(len(mutation), s * g),
            shape=(n, s, n_mult, g),
        )

    def expand(self, resp: np.ndarray) -> np.ndarray:
        """(K, P) pair responsibilities as the (N, K, M) array of the full grid."""
        n, _, n_mult, _ = self.shape
        k = resp.shape[0]
        full = np.zeros((n, k, n_mult))
        full[self.mutation[:, None], np.arange(k)[None, :], self.option[:, None]] = resp.T
        return full


def _e_step(
    pairs: _Pairs, grid_idx: np.ndarray, weights: np.ndarray, sample_ix: np.ndarray
) -> tuple[np.ndarray, float]:
    """Responsibilities (K, P) of every valid (mutation, option) pair and the log-likelihood."""
    # log P(data_i, clone k, option o) for every valid pair (K, P)
    per_clone = pairs.by_grid[sample_ix[None, :], grid_idx].sum(axis=1)
    log_joint = np.log(weights)[:, None] + per_clone + pairs.log_prior[None, :]
    top = np.maximum.reduceat(log_joint.max(axis=0), pairs.starts)  # (N,)
    unnorm = np.exp(log_joint - top[pairs.mutation][None, :])
    total = np.add.reduceat(unnorm.sum(axis=0), pairs.starts)  # (N,)
    ll_total = float((top + np.log(total)).sum())
    return unnorm / total[pairs.mutation][None, :], ll_total


def _fit(
    pairs: _Pairs,
    init: np.ndarray,
    *,
    max_iter: int,
    tol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """EM on the CCF grid with Figueiredo-Jain component annihilation.

    Returns grid indices (K, S), weights (K,), responsibilities (N, K, M) and the
    log-likelihood.
    """
    _, s, _, g = pairs.shape
    min_size = _annihilation_size(s)
    grid_idx = np.clip(np.rint(init * (g - 1)).astype(int), 0, g - 1)
    k = grid_idx.shape[0]
    weights = np.full(k, 1.0 / k)
    prev = -np.inf
    sample_ix = np.arange(s)
    ll_total = -np.inf
    resp = np.zeros((k, len(pairs.mutation)))
    for _ in range(max_iter):
        resp, ll_total = _e_step(pairs, grid_idx, weights, sample_ix)
        # M-step: weights with annihilation of components too small to pay for their params
        counts = resp.sum(axis=1)
        keep = counts - min_size > 0
        if not keep.any():
            keep = counts == counts.max()
        if not keep.all():
            grid_idx, resp, counts = grid_idx[keep], resp[keep], counts[keep]
            k = int(keep.sum())
        weights = np.maximum(counts - min_size, 1e-12)
        weights /= weights.sum()
        # every clone's CCF in every sample at once: (K, P) @ (P, S*G), best grid point
        before = grid_idx.copy()
        grid_idx = (resp @ pairs.flat).reshape(k, s, g).argmax(axis=2)
        change = ll_total - prev
        if change < tol * abs(ll_total):
            break
        # the CCFs live on a grid: once they stop moving only the weights creep on
        if np.array_equal(before, grid_idx) and change < 1e-4 * abs(ll_total):
            break
        prev = ll_total
    return grid_idx, weights, pairs.expand(resp), ll_total


def _assign(
    arrays: dict[str, np.ndarray],
    options: list[tuple[str, int]],
    copy_number_model: str,
    n_mult: int,
    precision: float | None,
    grid_idx: np.ndarray,
    weights: np.ndarray,
    chunk: int = 20_000,
) -> tuple[np.ndarray, float]:
    """Responsibilities (N, K, M) of every mutation for fixed clones, and the log-likelihood.

    One E-step, ``chunk`` mutations at a time, with each sample's likelihood evaluated only
    at the clones' CCFs there (K points instead of 101).
    """
    n, s = arrays["alt"].shape
    # each sample's likelihood at its own K clone CCFs: grid (S, K), clone k at position k
    per_sample = CCF_GRID[grid_idx.T]
    local = np.repeat(np.arange(grid_idx.shape[0])[:, None], s, axis=1)
    sample_ix = np.arange(s)
    resp = np.zeros((n, len(weights), len(options)))
    total = 0.0
    for start in range(0, n, chunk):
        rows = slice(start, min(start + chunk, n))
        part = {key: a[rows] for key, a in arrays.items()}
        pairs = _Pairs.build(
            *_model_grid(part, options, copy_number_model, n_mult, precision, per_sample)
        )
        r, ll = _e_step(pairs, local, weights, sample_ix)
        resp[rows] = pairs.expand(r)
        total += ll
    return resp, total


def _merge_candidates(centres: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """The ``limit`` closest clone pairs (max CCF difference over samples <= 0.25)."""
    k = len(centres)
    pairs = []
    for a in range(k):
        for b in range(a + 1, k):
            gap = float(np.max(np.abs(centres[a] - centres[b])))
            if gap <= 0.25:
                pairs.append((gap, a, b))
    pairs.sort()
    return [(a, b) for _, a, b in pairs[:limit]]


# Weight of the classification entropy in the model choice. 1 is the ICL of Biernacki et al.
# (2000); measured on virtual patients (6 seeds; 2, 4, 10 regions): 0 let one clone of 80
# mutations split in two at 10 regions (ARI 0.92), 1 merged a near-clonal subclone into the
# trunk at 2 regions (truncal specificity 0.88); 0.5 avoided both.
_ENTROPY_WEIGHT = 0.5
# EM steps that score a candidate merge before the best one is refitted in full (10 and 20
# gave the same ARI on 30 virtual patients, 5 lost accuracy at 300 x 10; 10 is cheaper)
_CANDIDATE_ITER = 10


def _criterion(ll: float, resp: np.ndarray, n: int, s: int) -> float:
    """Model-choice score (lower is better): -log L + BIC penalty + weighted entropy.

    With one sample the AIC penalty replaces the BIC's and the entropy is left out.

    The entropy term (the ICL of Biernacki et al. 2000) is what stops one cloud of mutations
    from being split in two: a split chosen by the data always gains likelihood, but its
    members' clone is uncertain; real clones are well separated and pay almost nothing.
    """
    k = resp.shape[1]
    post = resp.sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -float(np.nansum(post * np.log(post)))
    # one sample: the clones' VAF clouds overlap and the BIC merged true clones (ARI 0.596 vs
    # 0.629 with AIC's penalty over 6 virtual patients of 100 mutations; PyClone-VI 0.632)
    penalty = (1.0 if s == 1 else np.log(n) / 2.0) * (k * (s + 1) - 1)
    # one sample: clones' VAF clouds overlap by nature and the entropy would merge them all
    return -ll + penalty + (_ENTROPY_WEIGHT * entropy if s > 1 else 0.0)


def _fit_and_merge(
    pairs: _Pairs,
    init: np.ndarray,
    *,
    max_iter: int,
    tol: float,
    max_candidates: int = 4,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Fit from ``init`` (K, S) CCFs, then greedily merge clone pairs while ICL improves.

    Each round scores the ``max_candidates`` closest pairs with a short EM run (10 steps) and
    refits only the best merge in full; it is kept if the full fit still improves the
    criterion (:func:`_criterion`).
    """
    n, s, _, g = pairs.shape
    grid_idx, weights, resp, ll = _fit(pairs, init, max_iter=max_iter, tol=tol)
    current = _criterion(ll, resp, n, s)
    while len(weights) > 1:
        best: tuple[float, np.ndarray] | None = None
        centres = grid_idx / (g - 1)
        for a, b in _merge_candidates(centres, max_candidates):
            merged = np.delete(centres, b, axis=0)
            merged[a] = (centres[a] * weights[a] + centres[b] * weights[b]) / (
                weights[a] + weights[b]
            )
            _, _, r_m, ll_m = _fit(pairs, merged, max_iter=_CANDIDATE_ITER, tol=tol)
            score = _criterion(ll_m, r_m, n, s)
            if score < current and (best is None or score < best[0]):
                best = (score, merged)
        if best is None:
            break
        fit = _fit(pairs, best[1], max_iter=max_iter, tol=tol)
        score = _criterion(fit[3], fit[2], n, s)
        if score >= current:
            break
        grid_idx, weights, resp, ll = fit
        current = score
    return grid_idx, weights, resp, ll


def cluster_mutations(
    variants: pd.DataFrame,
    *,
    max_clones: int = 20,
    n_restarts: int = 5,
    precision: float | str | None = "auto",
    copy_number_model: Literal["both", "clonal", "mutant"] = "both",
    level: float = 0.95,
    max_iter: int = 200,
    tol: float = 1e-6,
    subsample: int | None = 500,
    refine: int | None = 10_000,
    seed: int | None = 0,
) -> ClusterResult:
    """Group mutations into clones from their read counts in all samples jointly.

    Each clone k has a CCF :math:`\\phi_{ks}` per sample; a mutation of clone k with
    multiplicity m (shared by all samples, with a uniform prior on 1..major copy number, and a
    copy-number scenario, see ``copy_number_model``) has alt reads :math:`\\sim
    \\mathrm{Binomial}(d, v(\\phi_{ks}, m))` or beta-binomial with mean :math:`v` and a
    precision estimated from the data (``precision``), :math:`v` the copy-number-aware expected
    VAF of :func:`ithkit.genomic.expected_vaf`. The mixture is fitted by EM with the CCFs on a
    0.01 grid, starting from ``max_clones`` k-means++ centres on the point CCFs; the number of
    clones is chosen automatically: components that cannot pay for their parameters are
    annihilated during EM (minimum message length, Figueiredo & Jain 2002, needing at most 3
    members), then close clones are merged while that improves the BIC plus half the
    classification entropy (ICL, Biernacki et al. 2000, at half weight; AIC with one sample).
    The best of ``n_restarts`` runs by the same criterion is kept.

    Parameters
    ----------
    variants
        Complete mutation x sample table (:data:`ithkit.schema.VARIANTS`).
    max_clones
        Starting number of components (an upper bound on the clones found).
    n_restarts
        Independent initialisations.
    precision
        Read model. ``"auto"`` (default): chosen from the data. The candidates of
        :data:`PRECISION_GRID` (binomial, then beta-binomial precisions 1000 down to 15) are
        fitted in turn on the search subset, the first from a fresh start and each next one
        from the clones of the one before, and scored by the model-choice criterion below
        plus the BIC penalty of one more parameter, until two in a row score worse than the
        best; the best then gets ``n_restarts`` fresh restarts (about 1.3-2x the time of a
        given precision). The value
        used is ``result.precision``. A number (e.g. 60) forces that beta-binomial precision
        (:math:`a + b`; smaller = more overdispersed; real exome data are typically 50-500);
        None or ``"binomial"`` forces the binomial.
    copy_number_model
        ``clonal``: the reported copy number is carried by every cancer cell; ``mutant``: only
        by the cells with the mutation (the others keep the normal copy number); ``both``
        (default): the mutation either preceded the change in its own cells (multiplicity
        1..major) or followed a change shared by all cancer cells (multiplicity 1), marginalised
        under a uniform prior (the genotype set of PyClone-VI).
    level
        Probability mass of the clone CCF intervals.
    max_iter, tol
        EM stopping rule (relative change of the log-likelihood).
    subsample
        Above this many mutations the search for the number of clones (restarts, merges) runs
        on a seeded random subset of this size, then a single EM fits every mutation from the
        clones found (None: always search on all mutations).
    refine
        Above this many mutations the final EM (and each clone's CCF interval) uses a seeded
        random subset of this size, and every mutation is then assigned to the clones found,
        in chunks of 20,000: 100,000 mutations x 10 regions fit in ~1 GB (None: the final
        EM on all mutations).
    seed
        Seed of the initialisations.

    Returns
    -------
    ClusterResult

    Examples
    --------
    >>> from ithkit.evolution import virtual_patient
    >>> vp = virtual_patient(seed=1, n_regions=3, depth=300)
    >>> result = cluster_mutations(vp.variants, seed=0)
    >>> 2 <= result.clones["clone_id"].nunique() <= 8
    True
    """
    if max_clones < 1:
        raise InputError(f"max_clones is {max_clones}", source="max_clones", fix="use 1 or more")
    mutations, samples, arrays = _arrays(variants)
    n, s = arrays["alt"].shape
    n_mult = int(min(arrays["major"].max(), 6))
    if copy_number_model == "both" and (arrays["total"] == arrays["normal"]).all():
        copy_number_model = "clonal"  # identical likelihoods: no need to carry both
    options = _copy_number_options(copy_number_model, n_mult)
    fixed = _parse_precision(precision)

    # point CCFs (best multiplicity per sample) to seed the centres
    with np.errstate(invalid="ignore", divide="ignore"):
        vaf = np.where(arrays["depth"] > 0, arrays["alt"] / arrays["depth"], 0.0)
        copies = (
            vaf
            / arrays["purity"]
            * (arrays["purity"] * arrays["total"] + (1 - arrays["purity"]) * arrays["normal"])
        )
    mult = np.clip(np.rint(copies), 1, arrays["major"])
    points = np.clip(copies / mult, 0, 1)

    rng_seeds = np.random.SeedSequence(seed).spawn(max(n_restarts, 1) + 1)
    # model search (restarts, annihilation, merges) on at most `subsample` mutations, then one
    # EM on all of them from the chosen clones: the search cost stops growing with N
    pick = np.arange(n)
    subset_rng = np.random.default_rng(rng_seeds[-1])
    if subsample is not None and n > subsample:
        pick = np.sort(subset_rng.choice(n, subsample, replace=False))
    # the final EM on all mutations, or on a seeded subset of `refine` above that; every
    # mutation is then assigned from the clones found (in chunks: memory stays bounded)
    fit_rows = np.arange(n)
    if refine is not None and n > refine:
        fit_rows = np.sort(subset_rng.choice(n, refine, replace=False))
    fit_arrays = arrays if len(fit_rows) == n else {k: a[fit_rows] for k, a in arrays.items()}
    sub_arrays = {key: a[pick] for key, a in arrays.items()}
    sub_points = points[pick]
    n_sub = len(pick)
    scores: list[dict[str, float | int | None]] = []

    def search(
        prec: float | None,
        seeds: list[np.random.SeedSequence],
        grid: tuple[np.ndarray, np.ndarray] | None = None,
        starts: list[np.ndarray] | None = None,
    ) -> _Search:
        if grid is None:
            grid = _model_grid(sub_arrays, options, copy_number_model, n_mult, prec)
        pairs = _Pairs.build(*grid)
        found = None
        inits = [
            _kmeanspp(sub_points, min(max_clones, n_sub), np.random.default_rng(ss)) for ss in seeds
        ] + (starts or [])
        for init in inits:
            gi, w, resp, ll = _fit_and_merge(pairs, init, max_iter=max_iter, tol=tol)
            # the precision is one more parameter when it is estimated
            score = _criterion(ll, resp, n_sub, s) + (
                _precision_penalty(n_sub, s) if fixed == "auto" and prec is not None else 0.0
            )
            if found is None or score < found[0]:
                found = (score, gi, w, resp, ll)
        assert found is not None
        return found

    restarts = list(rng_seeds[:-1])
    with _single_thread_blas():
        if fixed == "auto":
            # the read model is chosen by the same penalised likelihood as the clones: each
            # candidate precision is searched from the first restarts, the best one from all
            first = restarts[:1]
            results: dict[float | None, _Search] = {}
            # a path from the binomial to the most overdispersed candidate: the first is
            # searched from a fresh start, each next one starts from the clones of the one
            # before (fewer merges to do, so the whole path costs about two restarts)
            previous: np.ndarray | None = None
            worse = 0  # candidates in a row that did not beat the best so far
            for prec in PRECISION_GRID:
                if previous is None:
                    results[prec] = search(prec, first)
                else:
                    results[prec] = search(prec, [], starts=[previous])
                previous = results[prec][1] / (CCF_GRID.size - 1)
                best_score = min(r[0] for r in results.values())
                worse = 0 if results[prec][0] <= best_score else worse + 1
                if worse == _PATH_PATIENCE:
                    break  # the score rose twice running: past its minimum
            scores.extend(
                {"precision": p, "score": float(r[0]), "n_clones": int(r[1].shape[0])}
                for p, r in results.items()
            )
            chosen = min(results, key=lambda p: results[p][0])
            best = results[chosen]
            # the chosen model gets fresh restarts (the path's fit stays a candidate; the
            # binomial's first restart was the path's start)
            rest = restarts[1:] if chosen is None else restarts
            if rest:
                more = search(chosen, rest)
                best = more if more[0] < best[0] else best
            loglik, log_prior_m = _model_grid(
                fit_arrays, options, copy_number_model, n_mult, chosen
            )
        else:
            chosen = fixed
            loglik, log_prior_m = _model_grid(
                fit_arrays, options, copy_number_model, n_mult, chosen
            )
            sub_grid = (loglik[pick], log_prior_m[pick]) if len(fit_rows) == n else None
            best = search(chosen, restarts, sub_grid)
        _, grid_idx, weights, resp, ll = best
        if n_sub < n:
            fit_pairs = _Pairs.build(loglik, log_prior_m)
            init = grid_idx / (CCF_GRID.size - 1)
            grid_idx, weights, resp, ll = _fit(fit_pairs, init, max_iter=max_iter, tol=tol)
            del fit_pairs
        fit_resp = resp
        if len(fit_rows) < n:
            resp, ll = _assign(
                arrays, options, copy_number_model, n_mult, chosen, grid_idx, weights
            )
    # order clones by decreasing mean CCF
    order = np.argsort(-grid_idx.mean(axis=1), kind="stable")
    grid_idx, resp, fit_resp = grid_idx[order], resp[:, order, :], fit_resp[:, order, :]
    post_clone = resp.sum(axis=2)  # (N, K)
    label = post_clone.argmax(axis=1)
    used = np.unique(label)
    remap = {old: new for new, old in enumerate(used)}
    clone_ids = [f"C{remap[k] + 1}" for k in label]
    assignments = pd.DataFrame(
        {
            "mutation_id": pd.array(mutations, dtype="string"),
            "clone_id": pd.array(clone_ids, dtype="string"),
            "probability": post_clone[np.arange(n), label],
        }
    )
    rows = []
    fit_label = label[fit_rows]
    for k in used:
        members = label == k
        # the interval pools the members in the final fit (all of them up to `refine`)
        in_fit = np.flatnonzero(fit_label == k)
        k_loglik, k_resp = loglik[in_fit], fit_resp[in_fit, k, :]
        if in_fit.size == 0:  # a clone with no member in the fit's subset: its own grid
            own = np.flatnonzero(members)[:1000]
            k_loglik = _model_grid(
                {key: a[own] for key, a in arrays.items()}, options, copy_number_model,
                n_mult, chosen,
            )[0]  # fmt: skip
            k_resp = resp[own, k, :]
        for j, sample in enumerate(samples):
            # posterior of the clone's CCF given its members (uniform prior on the grid)
            w_m = k_resp / np.maximum(k_resp.sum(axis=1, keepdims=True), 1e-300)  # (n_k, M)
            score = np.einsum("nm,nmg->g", w_m, k_loglik[:, j])
            low, high = hpd_interval(score[None, :], level)
            rows.append(
                {
                    "clone_id": f"C{remap[k] + 1}",
                    "sample_id": sample,
                    "ccf": float(CCF_GRID[grid_idx[k, j]]),
                    "ccf_low": float(low[0]),
                    "ccf_high": float(high[0]),
                    "n_mutations": int(members.sum()),
                }
            )
    clones = pd.DataFrame(rows).astype({"clone_id": "string", "sample_id": "string"})
    table = pd.DataFrame(scores, columns=["precision", "score", "n_clones"])
    table["precision"] = table["precision"].astype(float)
    return ClusterResult(
        assignments,
        clones,
        float(ll),
        len(rng_seeds) - 1,
        precision=chosen,
        precision_estimated=fixed == "auto",
        precision_scores=table,
    )
