"""One call from multi-region read counts to clones, tree, metrics and sampling adequacy."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ithkit import schema
from ithkit._errors import InputError
from ithkit._progress import stage
from ithkit.genomic._adequacy import AdequacyResult, sampling_adequacy
from ithkit.genomic._ccf import (
    MissingMutationsWarning,
    cancer_cell_fraction,
    fill_missing,
    mutation_classes,
)
from ithkit.genomic._cluster import cluster_mutations
from ithkit.genomic._metrics import (
    MATH_MIN_VAF,
    heterogeneity_metrics,
    subclonal_genome_fraction,
)
from ithkit.genomic._phylogeny import TreeResult, fish_table, infer_tree


@dataclass(frozen=True)
class GenomicResult:
    """Everything :func:`analyze` computes; :meth:`write` saves it as the CLI does.

    Attributes
    ----------
    mutations
        ``mutation_id, clone_id, class`` (class: truncal, shared or private).
    mutation_ccf
        ``mutation_id, sample_id, vaf, ccf, ccf_low, ccf_high, multiplicity, is_clonal``.
    clones
        ``clone_id, sample_id, ccf, ccf_low, ccf_high, n_mutations``.
    tree
        The tree search (best tree, number of consistent trees, shortlist, edge support).
    fish
        ``clone_id, parent, sample_id, ccf, fraction`` for fish plots.
    metrics
        ``sample_id, math, n_clones, shannon, simpson, fraction_subclonal`` (+ ``ALL``), and
        ``subclonal_genome_fraction`` when segments were given.
    adequacy
        Rarefaction over region subsets.
    filled
        Mutation x sample rows that were missing and filled with 0 alt reads.
    precision
        Beta-binomial precision of the read model the clones were inferred with (None:
        binomial).
    precision_estimated
        Whether that precision was chosen from the data (the default) or given.
    precision_scores
        ``precision, score, n_clones`` of the candidate read models when it was chosen from
        the data (precision NaN = binomial; the lowest score was used).
    """

    mutations: pd.DataFrame
    mutation_ccf: pd.DataFrame
    clones: pd.DataFrame
    tree: TreeResult
    fish: pd.DataFrame
    metrics: pd.DataFrame
    adequacy: AdequacyResult
    filled: pd.DataFrame
    precision: float | None = None
    precision_estimated: bool = False
    precision_scores: pd.DataFrame = field(default_factory=pd.DataFrame)

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``mutations.tsv, mutation_ccf.tsv, clones.tsv, tree.json, tree.nwk,
        metrics.tsv`` and ``fish.tsv, edges.tsv, tree_shortlist.tsv, adequacy.tsv,
        missing.tsv`` to ``out_dir``."""
        from ithkit._atomic import atomic_path
        from ithkit.io import write_table

        out = Path(out_dir)
        files = {
            "mutations": write_table(self.mutations, out / "mutations.tsv"),
            "mutation_ccf": write_table(self.mutation_ccf, out / "mutation_ccf.tsv"),
            "clones": write_table(self.clones, out / "clones.tsv"),
            "metrics": write_table(self.metrics, out / "metrics.tsv"),
            "fish": write_table(self.fish, out / "fish.tsv"),
            "edges": write_table(self.tree.edges, out / "edges.tsv"),
            "tree_shortlist": write_table(self.tree.shortlist, out / "tree_shortlist.tsv"),
            "adequacy": write_table(self.adequacy.curve, out / "adequacy.tsv"),
            "missing": write_table(self.filled, out / "missing.tsv"),
        }
        for name, text in (("tree.json", self.tree.to_json()), ("tree.nwk", self.tree.newick())):
            with atomic_path(out / name) as tmp:
                tmp.write_text(text + "\n", encoding="utf-8")
            files[name.replace(".", "_")] = out / name
        summary = {
            "n_mutations": int(self.mutations.shape[0]),
            "n_samples": int(self.mutation_ccf["sample_id"].nunique()),
            "n_clones": int(self.clones["clone_id"].nunique()),
            "n_consistent_trees": int(self.tree.n_consistent),
            "tree": self.tree.newick(),
            "sampling": self.adequacy.summary(),
            "n_filled_rows": len(self.filled),
            "read_model": {
                "model": "binomial" if self.precision is None else "beta-binomial",
                "precision": self.precision,
                "estimated": self.precision_estimated,
            },
        }
        with atomic_path(out / "summary.json") as tmp:
            tmp.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        files["summary"] = out / "summary.json"
        return files


def analyze_memory_bytes(n_rows: int) -> float:
    """Expected peak memory (bytes) :func:`analyze` adds for ``n_rows`` mutation x sample rows.

    Measured on virtual patients (``benchmarks/performance.py``: 100,000 mutations x 10
    regions, 1,000,000 rows, added 0.8 GB to the 0.7 GB of the loaded table): a fixed ~0.3 GB
    (the 10,000-mutation clustering grid, the 50,000-row CCF chunks) plus ~0.9 kB per row
    (typed copies, CCF intervals, classes), which over-states that run by a third on purpose.

    Examples
    --------
    >>> round(analyze_memory_bytes(1_000_000) / 1e9, 1)
    1.2
    """
    return 0.3e9 + 900.0 * max(0, int(n_rows))


def analyze(
    variants: pd.DataFrame,
    *,
    segments: pd.DataFrame | None = None,
    seed: int | None = 0,
    max_clones: int = 20,
    n_restarts: int = 5,
    precision: float | str | None = "auto",
    tree_tolerance: float = 0.05,
    math_min_vaf: float = MATH_MIN_VAF,
    show_progress: bool = False,
) -> GenomicResult:
    """Genomic ITH of one tumour from multi-region read counts, in one call.

    Steps: validate (:data:`ithkit.schema.VARIANTS`), fill mutations missing from a sample with
    0 alt reads (reported), CCF per mutation and sample (:func:`cancer_cell_fraction`),
    truncal/shared/private classes, clones (:func:`cluster_mutations`), the tree
    (:func:`infer_tree`), fish-plot prevalences, heterogeneity metrics and sampling adequacy.

    Parameters
    ----------
    variants
        PyClone-VI-format table (strings or typed).
    segments
        Optional copy-number segments (:data:`ithkit.schema.SEGMENTS` with ``ccf``) for the
        fraction of the genome with subclonal copy number.
    seed
        Seed of the clustering restarts and the subset sampling.
    max_clones, n_restarts
        Passed to :func:`cluster_mutations`.
    precision
        Read model of the clone inference: ``"auto"`` (default) chooses binomial or a
        beta-binomial precision from the data by penalised likelihood; a number (e.g. 60)
        forces that beta-binomial precision; None or ``"binomial"`` forces the binomial.
        The value used is ``result.precision`` and ``read_model`` in ``summary.json``.
    tree_tolerance
        Sum-rule tolerance of :func:`infer_tree` (CCF units).
    math_min_vaf
        VAF floor of MATH (fraction 0..1; maftools' 0.075 by default, the same rule as
        :func:`maf_math`).
    show_progress
        Print each step and its time on stderr (the command line turns it on).

    Returns
    -------
    GenomicResult

    Examples
    --------
    >>> from ithkit.evolution import virtual_patient
    >>> vp = virtual_patient(seed=2, n_regions=3, n_mutations=80, depth=300)
    >>> result = analyze(vp.variants, seed=0)
    >>> list(result.metrics.columns)
    ['sample_id', 'math', 'n_clones', 'shannon', 'simpson', 'fraction_subclonal']
    """
    with stage("validate", enabled=show_progress):
        typed = schema.validate(variants, schema.VARIANTS, source="variants")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", MissingMutationsWarning)
            complete, filled = fill_missing(typed)
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=2)
    if complete["mutation_id"].nunique() < 2:
        raise InputError(
            "fewer than two mutations", source="variants", fix="clone inference needs more data"
        )
    with stage("clones", enabled=show_progress):
        clusters = cluster_mutations(
            complete, max_clones=max_clones, n_restarts=n_restarts, precision=precision, seed=seed
        )
    with stage("CCF", enabled=show_progress):
        # per-mutation intervals under the read model the clones were inferred with
        ccf = cancer_cell_fraction(complete, precision=clusters.precision)
        classes = mutation_classes(ccf, assignments=clusters.assignments, clones=clusters.clones)
    with stage("tree", enabled=show_progress):
        tree = infer_tree(clusters.clones, tolerance=tree_tolerance)
        fish = fish_table(tree.tree, clusters.clones)
    with stage("metrics", enabled=show_progress):
        metrics = heterogeneity_metrics(ccf, classes, fish, math_min_vaf=math_min_vaf)
        if segments is not None:
            typed_segments = schema.validate(segments, schema.SEGMENTS, source="segments")
            fraction = subclonal_genome_fraction(typed_segments)
            metrics["subclonal_genome_fraction"] = metrics["sample_id"].map(fraction)
            metrics.loc[metrics["sample_id"] == "ALL", "subclonal_genome_fraction"] = float(
                fraction.mean()
            )
        mutations = clusters.assignments[["mutation_id", "clone_id"]].assign(
            **{"class": lambda f: f["mutation_id"].map(classes).astype("string")}
        )
    with stage("adequacy", enabled=show_progress):
        adequacy = sampling_adequacy(ccf, clusters.assignments, classes, seed=seed)
    return GenomicResult(
        mutations=mutations,
        mutation_ccf=ccf,
        clones=clusters.clones,
        tree=tree,
        fish=fish,
        metrics=metrics,
        adequacy=adequacy,
        filled=filled,
        precision=clusters.precision,
        precision_estimated=clusters.precision_estimated,
        precision_scores=clusters.precision_scores,
    )
