"""Virtual patients: one evolving tumour with known truth, observed the way a clinic observes it.

A virtual patient is generated from a seed in four steps.

1. **Clone tree.** 3–8 clones: a trunk (``C1``, present in every cancer cell) and subclones,
   each attached to a uniformly chosen earlier clone (a random recursive tree, which gives both
   linear and branching topologies). Mutations are shared out: 25–50 % on the trunk, the rest
   over the subclones (at least 3 each).
2. **Regions.** Each region (biopsy of the primary lesion ``L1``) holds a random subset of the
   subclones. The *prevalence* of clone k (fraction of cancer cells whose most derived clone is
   k) is Dirichlet distributed over the trunk and the clones present; the cancer cell fraction
   (CCF) of a clone is the summed prevalence of the clone and its descendants, so the tree
   obeys the sum rule exactly in every region. Every subclone reaches a CCF of at least
   ``min_ccf`` somewhere.
3. **Copy number.** ``n_cn_events`` allele-specific events (gain 2+1, copy-neutral LOH 2+0,
   deletion LOH 1+0, amplification 3+1, tetrasomy 2+2) on distinct chromosomes, each in the
   trunk (clonal) or in a subclone (subclonal, present only in that clone's descendants). A
   mutation that arose before an event on the same lineage is carried on one allele and takes
   that allele's copy number after the event (its *multiplicity*); mutations are kept on the
   retained allele of an LOH (no mutation loss). A mutation that arose after the event has
   multiplicity 1.
4. **Observation.** For sample s with purity p, the expected VAF of mutation i is

   .. math:: \\mathrm{VAF}_{is} = \\frac{p \\sum_k \\pi_{ks} m_{ik}}
             {p \\sum_k \\pi_{ks} t_{ik} + (1 - p) n_i}

   with :math:`\\pi_{ks}` the clone prevalences, :math:`m_{ik}` the mutant copies and
   :math:`t_{ik}` the total copy number in clone k's cells, :math:`n_i = 2` the normal copy
   number. Sequencing error e turns it into :math:`v(1-e) + (1-v)e`. Depth per site is negative
   binomial (mean ``depth``, coefficient of variation ≈ 0.25), alt reads beta-binomial with
   precision ``overdispersion`` (200 by default, twice the binomial variance at 200x; None
   gives binomial reads). The copy number reported in the variant table is
   the state carried by the majority of the sample's cancer cells (what a bulk caller reports);
   the segment table reports each event with its CCF.

Then therapy starts at day 0. One leaf clone is resistant; its prevalence is capped at
max(``min_ccf``, 0.12) per region, as resistant clones are rare before therapy. Each lesion's
cells are sensitive
(die at rate ``kill_rate`` per day) or resistant (grow at ``resistant_growth_rate`` per day);
lesion volume follows the cell number, diameter its cube root, with measurement noise. A new
lesion can appear once the resistant cells outnumber the baseline burden. Plasma tumour fraction
follows the total burden, and each tracked mutation's plasma VAF follows its clone's share of
the tumour. A clonal-haematopoiesis variant (DNMT3A) with a constant VAF is included, as in real
panels.

Examples
--------
>>> from ithkit.evolution import virtual_patient
>>> vp = virtual_patient(seed=1)
>>> sorted(vp.variants.columns)[:4]
['alt_counts', 'chrom', 'error_rate', 'gene']
>>> bool((vp.clone_ccf.query("clone_id == 'C1'")["ccf"] == 1.0).all())
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ithkit._errors import InputError
from ithkit.evolution._scenario import Scenario, load_scenario

if TYPE_CHECKING:  # pragma: no cover
    from ithkit.pathology import SimulatedDetections

# GRCh38 autosome lengths in Mb (Genome Reference Consortium), for placing mutations and events
CHROMOSOME_LENGTHS_MB = (
    248.96, 242.19, 198.30, 190.21, 181.54, 170.81, 159.35, 145.14, 138.39, 133.80, 135.09,
    133.28, 114.36, 107.04, 101.99, 90.34, 83.26, 80.37, 58.62, 64.44, 46.71, 50.82,
)  # fmt: skip

POPULATION_PREFIX = "pop_"  # evolution populations modelling true clones

TRUNK_DRIVERS = ("TP53", "KRAS", "APC", "PIK3CA", "VHL", "CDKN2A")
BRANCH_DRIVERS = ("SETD2", "PBRM1", "ARID1A", "NOTCH1", "KMT2D", "FAT1", "NF1", "PTEN")
RESISTANCE_DRIVERS = ("EGFR", "ESR1", "AR", "MET", "BRAF")
CHIP_GENE = "DNMT3A"

# (major, minor, name, probability)
# Beta-binomial precision of the virtual sequencing reads (a + b; binomial as it grows):
# 200 doubles the binomial variance at 200x depth (intra-class correlation 0.005), a moderate
# overdispersion; formalin-fixed samples are worse (issue 16's example used 60).
DEFAULT_PRECISION = 200.0

CN_STATES = (
    (2, 1, "gain", 0.35),
    (2, 0, "cn_loh", 0.20),
    (1, 0, "deletion_loh", 0.25),
    (3, 1, "amplification", 0.10),
    (2, 2, "tetrasomy", 0.10),
)
METASTATIC_SITES = (
    ("liver", False),
    ("lung", False),
    ("lymph_node", True),
    ("adrenal", False),
    ("peritoneum", False),
    ("lymph_node", True),
    ("bone", False),
    ("brain", False),
    ("liver", False),
)


@dataclass(frozen=True)
class VirtualPatient:
    """A generated patient: observable tables in the ithkit contracts plus the truth behind them.

    Attributes
    ----------
    patient_id
        Identifier, ``VP<seed>`` unless given.
    seed
        The seed that reproduces this patient.
    clones
        Truth: ``clone_id, parent`` (missing for the trunk), ``depth`` (trunk = 0),
        ``n_mutations, is_resistant``.
    clone_ccf
        Truth: ``clone_id, sample_id, ccf, prevalence`` (fractions 0..1 of cancer cells).
    purity
        ``sample_id, purity`` (the :data:`ithkit.schema.PURITY` contract).
    variants
        Multi-region read counts (the :data:`ithkit.schema.VARIANTS` contract, PyClone-VI columns
        plus ``gene, chrom, pos, error_rate``).
    segments
        Allele-specific copy number per sample (:data:`ithkit.schema.SEGMENTS`, with ``ccf``).
    mutations
        Truth per mutation: ``mutation_id, clone_id, gene, chrom, pos, cn_event`` (event id or
        missing), ``timing`` (``before``/``after`` the event or missing).
    mutation_samples
        Truth per mutation and sample: ``mutation_id, sample_id, ccf, multiplicity,
        expected_vaf, major_cn_true, minor_cn_true``; multiplicity is the mutant copies in the
        cells that carry the mutation (averaged over them when they differ).
    cn_events
        Truth: ``event_id, chrom, start, end, clone_id, major_cn, minor_cn, kind``.
    lesions
        Measurements (the :data:`ithkit.schema.LESIONS` contract), diameters in mm, volumes ml.
    lesion_truth
        Truth per lesion: ``lesion_id, organ, is_lymph_node, baseline_diameter_mm,
        resistant_fraction, first_timepoint``.
    burden
        Truth per assessment day: ``timepoint, day, date, sum_volume_ml, resistant_fraction``.
    ctdna
        Plasma series (the :data:`ithkit.schema.CTDNA` contract).
    ctdna_truth
        Truth per draw and mutation: ``timepoint, day, mutation_id, clone_id, tumour_fraction,
        clone_ccf, expected_vaf, is_chip``.
    params
        Every parameter used, including the drawn rates.
    """

    patient_id: str
    seed: int
    clones: pd.DataFrame
    clone_ccf: pd.DataFrame
    purity: pd.DataFrame
    variants: pd.DataFrame
    segments: pd.DataFrame
    mutations: pd.DataFrame
    mutation_samples: pd.DataFrame
    cn_events: pd.DataFrame
    lesions: pd.DataFrame
    lesion_truth: pd.DataFrame
    burden: pd.DataFrame
    ctdna: pd.DataFrame
    ctdna_truth: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def sample_ids(self) -> list[str]:
        """Region identifiers in order."""
        return list(self.purity["sample_id"])

    @property
    def resistant_clone(self) -> str:
        """The clone that resists therapy."""
        return str(self.clones.loc[self.clones["is_resistant"], "clone_id"].iloc[0])

    def tree_newick(self) -> str:
        """The true clone tree in Newick format, e.g. ``((C3)C2,C4)C1;``."""
        from ithkit._trees import newick

        return newick(self.clones["clone_id"], self.clones["parent"])

    def summary(self) -> dict[str, Any]:
        """Headline numbers of the patient (for reports and the cohort store)."""
        return {
            "patient_id": self.patient_id,
            "seed": self.seed,
            "n_clones": len(self.clones),
            "n_regions": len(self.purity),
            "n_mutations": int(self.mutations.shape[0]),
            "n_lesions": int(self.lesion_truth.shape[0]),
            "resistant_clone": self.resistant_clone,
            "tree": self.tree_newick(),
            "mean_depth": float((self.variants["ref_counts"] + self.variants["alt_counts"]).mean()),
        }

    def detections(
        self, n_cells: int = 20000, *, clone: str | None = None, seed: int | None = None
    ) -> SimulatedDetections:
        """A synthetic QuPath cell-detection export of the patient's regions (known truth).

        One annotation per sequenced region (``region R1``...); the cells of ``clone`` (the
        resistant clone by default) are HER2 3+, so the fraction of 3+ tumour cells of a region
        is the clone's CCF there (regional heterogeneity planted by the clone tree); the other
        cells are negative, 1+ or 2+ (70/20/10 %). See
        :func:`ithkit.pathology.simulate_detections`.

        Examples
        --------
        >>> vp = virtual_patient(seed=3, n_regions=2, n_mutations=60)
        >>> list(vp.detections(2000).truth["region"])
        ['region R1', 'region R2', 'ALL']
        """
        from ithkit.pathology import simulate_detections

        chosen = clone or self.resistant_clone
        rows = self.clone_ccf[self.clone_ccf["clone_id"] == chosen]
        ccf = dict(zip(rows["sample_id"], rows["ccf"], strict=True))
        regions = {}
        for s in self.sample_ids:
            f3 = float(np.clip(ccf.get(s, 0.0), 0.0, 1.0))
            rest = 1.0 - f3
            regions[f"region {s}"] = (0.7 * rest, 0.2 * rest, 0.1 * rest, f3)
        return simulate_detections(
            n_cells, regions=regions, image=self.patient_id,
            seed=self.seed if seed is None else seed,
        )  # fmt: skip

    def dose_response(
        self, *, drugs: tuple[str, str] = ("A", "B"), seed: int | None = 0, **options: Any
    ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict[str, object]]]:
        """Dose-response table of this patient's clones with the truth behind it: the resistant
        clone resists the first drug and is collaterally sensitive to the second (the model of
        :func:`ithkit.functional.patient_truth`). Returns ``responses, derivatives, truth``
        (see :func:`ithkit.functional.patient_responses`, which takes ``options``).

        Examples
        --------
        >>> vp = virtual_patient(seed=3, n_regions=2)
        >>> responses, derivatives, truth = vp.dose_response(replicates=2)
        >>> vp.resistant_clone in set(derivatives["sample_id"])
        True
        """
        from ithkit.functional import patient_responses

        return patient_responses(self, drugs=drugs, seed=seed, **options)

    def therapy_scenario(
        self, *, horizon_days: float = 1825.0, engine: Literal["ode", "stochastic"] = "ode"
    ) -> Scenario:
        """The patient's whole tumour under its therapy, as a scenario to compare policies on.

        Clones start at their mean prevalence over the regions, in the cells of the baseline
        tumour volume (``cells_per_ml``); sensitive clones die at the patient's kill rate on
        therapy, the resistant clone grows at its growth rate, all clones share a logistic
        capacity of 30x the baseline (the generator's cap) and compete for it, so policies that
        keep sensitive cells (adaptive, intermittent) can be compared with continuous therapy.
        Clones descend along the true tree (mutation rate 1e-9 per division, so the Muller plot
        nests them). Progression: the tumour above 1.2x its baseline cells. Population names
        are the true clone ids prefixed ``pop_`` (``pop_C4`` is true clone C4).

        Examples
        --------
        >>> vp = virtual_patient(seed=1, n_regions=2)
        >>> sc = vp.therapy_scenario()
        >>> sc.policy["kind"], "therapy" in sc.drug_names
        ('continuous', True)
        """
        from ithkit.evolution._lesion import lesion_scenario

        mean = self.clone_ccf.groupby("clone_id", sort=False)["prevalence"].mean()
        mean = mean[mean > 0] / float(mean[mean > 0].sum())
        resistant = [str(c) for c in self.clones.loc[self.clones["is_resistant"], "clone_id"]]
        resistant = [c for c in resistant if c in mean.index]
        parents = {
            str(c): (None if pd.isna(p) else str(p))
            for c, p in zip(self.clones["clone_id"], self.clones["parent"], strict=True)
        }
        baseline = self.burden.sort_values("day")["sum_volume_ml"].iloc[0]
        # populations get their own prefix (pop_C4 models true clone C4), so no label means
        # two things in one report
        pop = POPULATION_PREFIX
        parents = {pop + c: (None if p is None else pop + p) for c, p in parents.items()}
        scenario = lesion_scenario(
            {pop + str(c): float(v) for c, v in mean.items()},
            cells=float(baseline) * float(self.params["cells_per_ml"]),
            resistant=[pop + c for c in resistant],
            kill_rate=float(self.params["kill_rate_per_day"]),
            growth_rate=float(self.params["resistant_growth_rate_per_day"]),
            horizon_days=float(horizon_days),
            parents=parents,
            mutation_rate=1e-9,
            capacity_fold=30.0,
            engine=engine,
        )
        raw = {**scenario.raw, "name": f"{self.patient_id} whole tumour"}
        raw["progression"] = {"total_fold": 1.2}
        return load_scenario(raw, source="virtual_patient")

    def to_files(self, out_dir: str | Path) -> dict[str, Path]:
        """Write the observable tables, the truth and a patient manifest to ``out_dir``.

        Observable: ``variants.tsv, segments.tsv, purity.tsv, lesions.csv, ctdna.csv``,
        ``scenario.yaml`` (:meth:`therapy_scenario`) and ``patient.yaml`` (the manifest of
        DESIGN.md). Truth: ``truth/*.tsv``.

        Returns
        -------
        dict
            Name -> path of every file written.
        """
        import yaml

        from ithkit.io import write_table

        out = Path(out_dir)
        truth = out / "truth"
        files = {
            "variants": write_table(self.variants, out / "variants.tsv"),
            "segments": write_table(self.segments, out / "segments.tsv"),
            "purity": write_table(self.purity, out / "purity.tsv"),
            "lesions": write_table(self.lesions, out / "lesions.csv"),
            "ctdna": write_table(self.ctdna, out / "ctdna.csv"),
            "truth_clones": write_table(self.clones, truth / "clones.tsv"),
            "truth_clone_ccf": write_table(self.clone_ccf, truth / "clone_ccf.tsv"),
            "truth_mutations": write_table(self.mutations, truth / "mutations.tsv"),
            "truth_mutation_samples": write_table(
                self.mutation_samples, truth / "mutation_samples.tsv"
            ),
            "truth_cn_events": write_table(self.cn_events, truth / "cn_events.tsv"),
            "truth_lesions": write_table(self.lesion_truth, truth / "lesions.tsv"),
            "truth_burden": write_table(self.burden, truth / "burden.tsv"),
            "truth_ctdna": write_table(self.ctdna_truth, truth / "ctdna.tsv"),
        }
        scenario_path = out / "scenario.yaml"
        scenario_path.write_text(yaml.safe_dump(self.therapy_scenario().raw, sort_keys=False))
        files["scenario"] = scenario_path
        manifest = {
            "patient_id": self.patient_id,
            "variants": "variants.tsv",
            "segments": "segments.tsv",
            "purity": "purity.tsv",
            "lesions": "lesions.csv",
            "ctdna": "ctdna.csv",
            "scenario": "scenario.yaml",
            "attributes": {"virtual": True, "seed": self.seed, "true_tree": self.tree_newick()},
        }
        path = out / "patient.yaml"
        path.write_text(yaml.safe_dump(manifest, sort_keys=False))
        files["manifest"] = path
        return files


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Event:
    """A copy-number event: allele copies (a, b) in the cells of ``clone`` and its descendants."""

    event_id: str
    chrom_idx: int
    start: int
    end: int
    clone: int
    a: int
    b: int
    major: int
    minor: int
    kind: str


def _check_range(
    name: str, value: float, low: float, high: float, *, integer: bool = False
) -> None:
    ok = low <= value <= high and (not integer or float(value).is_integer())
    if not ok:
        kind = "an integer" if integer else "a number"
        raise InputError(
            f"{name} is {value!r}", source=name, fix=f"{name} must be {kind} in [{low:g}, {high:g}]"
        )


def _descendants(parents: list[int]) -> list[set[int]]:
    """desc[k] = k and every clone below it (parents[k] < 0 for the root)."""
    from ithkit._trees import descendants

    below = descendants(range(len(parents)), [None if p < 0 else p for p in parents])
    return [{int(n) for n in below[str(k)]} for k in range(len(parents))]


def _ancestors(parents: list[int], k: int) -> list[int]:
    out = [k]
    while parents[out[-1]] >= 0:
        out.append(parents[out[-1]])
    return out


def virtual_patient(
    seed: int = 0,
    *,
    patient_id: str | None = None,
    n_clones: int | None = None,
    n_regions: int = 4,
    n_mutations: int = 150,
    depth: float = 200.0,
    purity: float | Sequence[float] | None = None,
    error_rate: float = 1e-3,
    overdispersion: float | None = DEFAULT_PRECISION,
    n_cn_events: int = 6,
    subclonal_cn_fraction: float = 0.4,
    min_ccf: float = 0.1,
    n_lesions: int = 3,
    n_followups: int = 6,
    assessment_interval_days: int = 56,
    ctdna_interval_days: int = 28,
    ctdna_depth: float = 5000.0,
    ctdna_error_rate: float = 5e-4,
    start_date: str = "2026-01-05",
    dynamics: Literal["closed_form", "stochastic"] = "closed_form",
    cells_per_ml: float = 1e8,
) -> VirtualPatient:
    """Generate one virtual patient with a known clone tree and its observable data.

    Parameters
    ----------
    seed
        Seed of every random draw; the same seed gives the same patient.
    patient_id
        Identifier; ``VP<seed>`` by default.
    n_clones
        Number of clones including the trunk, 3–8 (random in that range by default).
    n_regions
        Number of tumour regions sequenced, 1–10.
    n_mutations
        Number of somatic mutations (at least 3 per clone).
    depth
        Mean sequencing depth per site (reads).
    purity
        Tumour content per region (fraction in (0, 1]); one value for all, one per region, or
        None for uniform draws in [0.3, 0.9].
    error_rate
        Per-base sequencing error rate (fraction).
    overdispersion
        Precision :math:`a + b` of the beta-binomial read model (smaller = more overdispersed;
        the variance is the binomial's times :math:`1 + (d - 1) / (a + b + 1)` at depth d).
        200 by default (:data:`DEFAULT_PRECISION`: twice the binomial variance at 200x, a
        moderate overdispersion; formalin-fixed samples are worse, e.g. 30-60). None for
        plain binomial sampling. The beta draws come from their own random stream, so the tree,
        regions, lesions and plasma series of a seed do not depend on this setting.
    n_cn_events
        Number of allele-specific copy-number events (0–22).
    subclonal_cn_fraction
        Probability that an event belongs to a subclone rather than the trunk.
    min_ccf
        Every subclone reaches at least this CCF in some region (fraction).
    n_lesions
        Number of lesions (1–10); ``L1`` is the primary the regions come from.
    n_followups
        Number of assessments after baseline.
    assessment_interval_days
        Days between imaging assessments.
    ctdna_interval_days
        Days between blood draws.
    ctdna_depth
        Mean plasma sequencing depth (reads).
    ctdna_error_rate
        Plasma background error rate (fraction) after error suppression.
    start_date
        ISO date of baseline.
    dynamics
        ``closed_form``: each lesion's sensitive and resistant cells follow exponentials
        (fast, the default). ``stochastic``: each lesion's clones are simulated by the
        stochastic engine of :func:`ithkit.evolution.simulate` (birth-death with tau-leaping,
        see :func:`ithkit.evolution.lesion_scenario`), so lesion sizes and plasma clone shares
        come from one evolving tumour with demographic noise; the same seed gives the same
        patient, and the sequencing data are the same as with ``closed_form``.
    cells_per_ml
        Cancer cells per ml of lesion volume (stochastic dynamics).

    Returns
    -------
    VirtualPatient

    Raises
    ------
    ithkit.InputError
        If a parameter is outside its range.

    Examples
    --------
    >>> vp = virtual_patient(seed=3, n_regions=2, n_mutations=60)
    >>> vp.sample_ids
    ['R1', 'R2']
    >>> len(vp.variants) == 60 * 2
    True
    """
    rng = np.random.default_rng(seed)
    if n_clones is None:
        n_clones = int(rng.integers(3, 9))
    _check_range("n_clones", n_clones, 2, 12, integer=True)
    _check_range("n_regions", n_regions, 1, 10, integer=True)
    _check_range("n_mutations", n_mutations, 3 * n_clones, 1_000_000, integer=True)
    _check_range("depth", depth, 1, 1e6)
    _check_range("error_rate", error_rate, 0, 0.1)
    _check_range("n_cn_events", n_cn_events, 0, 22, integer=True)
    _check_range("subclonal_cn_fraction", subclonal_cn_fraction, 0, 1)
    _check_range("min_ccf", min_ccf, 0, 0.5)
    _check_range("n_lesions", n_lesions, 1, 10, integer=True)
    _check_range("n_followups", n_followups, 0, 40, integer=True)
    if overdispersion is not None:
        _check_range("overdispersion", overdispersion, 1, 1e9)
    pid = patient_id or f"VP{seed}"
    samples = [f"R{j + 1}" for j in range(n_regions)]

    # -- purity ---------------------------------------------------------------------------
    if purity is None:
        purities = np.round(rng.uniform(0.3, 0.9, n_regions), 2)
    else:
        given = np.atleast_1d(np.asarray(purity, dtype=float))
        purities = np.repeat(given, n_regions) if given.size == 1 else given
        if purities.shape != (n_regions,) or not np.all((purities > 0) & (purities <= 1)):
            raise InputError(
                f"purity is {purity!r}",
                source="purity",
                fix=f"give one value or {n_regions} values, each in (0, 1]",
            )

    # -- clone tree -------------------------------------------------------------------------
    parents = [-1] + [int(rng.integers(0, k)) for k in range(1, n_clones)]
    desc = _descendants(parents)
    clone_ids = [f"C{k + 1}" for k in range(n_clones)]
    depth_of = [len(_ancestors(parents, k)) - 1 for k in range(n_clones)]
    leaves = [k for k in range(1, n_clones) if len(desc[k]) == 1]
    resistant = int(rng.choice(leaves))

    # -- regions: prevalences and CCFs -------------------------------------------------------
    prevalence = _region_prevalences(rng, n_clones, n_regions, desc, min_ccf)
    # a resistant clone is rare before therapy: cap its share, giving the rest to its parent
    cap = max(min_ccf, 0.12)
    excess = np.maximum(prevalence[resistant] - cap, 0.0)
    prevalence[resistant] -= excess
    prevalence[parents[resistant]] += excess
    ccf = np.array([[prevalence[list(desc[k]), s].sum() for s in range(n_regions)] for k in
                    range(n_clones)])  # fmt: skip
    ccf = np.clip(ccf, 0.0, 1.0)
    ccf[0, :] = 1.0

    # -- mutations --------------------------------------------------------------------------
    trunk_share = rng.uniform(0.25, 0.5)
    n_trunk = max(3, round(n_mutations * trunk_share))
    rest = n_mutations - n_trunk
    n_sub = n_clones - 1
    extra = rng.multinomial(rest - 3 * n_sub, rng.dirichlet(np.full(n_sub, 2.0)))
    counts = np.concatenate([[n_trunk], 3 + extra])
    mut_clone = np.repeat(np.arange(n_clones), counts)

    lengths = np.asarray(CHROMOSOME_LENGTHS_MB) * 1e6
    chrom_idx = rng.choice(22, size=n_mutations, p=lengths / lengths.sum())
    pos = np.floor(rng.uniform(0, 1, n_mutations) * lengths[chrom_idx]).astype(np.int64) + 1
    bases = np.array(list("ACGT"))
    ref = rng.integers(0, 4, n_mutations)
    alt = (ref + rng.integers(1, 4, n_mutations)) % 4
    mutation_ids = [
        f"chr{c + 1}:{p}:{bases[r]}>{bases[a]}"
        for c, p, r, a in zip(chrom_idx, pos, ref, alt, strict=True)
    ]
    genes = _genes(rng, mut_clone, resistant)

    # -- copy-number events ------------------------------------------------------------------
    event_chroms = rng.choice(22, size=n_cn_events, replace=False)
    probs = np.array([s[3] for s in CN_STATES])
    events: list[_Event] = []
    for e, c in enumerate(event_chroms):
        length = lengths[c]
        frac = rng.uniform(0.2, 0.6)
        start = int(rng.uniform(0, 1 - frac) * length) + 1
        end = int(start + frac * length)
        state = CN_STATES[int(rng.choice(len(CN_STATES), p=probs / probs.sum()))]
        clone = (
            0
            if (n_clones == 1 or rng.random() >= subclonal_cn_fraction)
            else int(rng.integers(1, n_clones))
        )
        # allele copies (a, b): which parental allele gets the major count is random
        a, b = (state[0], state[1]) if rng.random() < 0.5 else (state[1], state[0])
        events.append(
            _Event(f"E{e + 1}", int(c), start, end, clone, a, b, state[0], state[1], state[2])
        )

    # per mutation: event, timing, allele copies of the mutated allele after the event
    mut_event = np.full(n_mutations, -1)
    mut_before = np.zeros(n_mutations, dtype=bool)
    mut_copies = np.ones(n_mutations, dtype=int)
    for e, ev in enumerate(events):
        hit = (chrom_idx == ev.chrom_idx) & (pos >= ev.start) & (pos <= ev.end)
        for i in np.flatnonzero(hit).tolist():
            c, d = int(mut_clone[i]), ev.clone
            mut_event[i] = e
            if d in desc[c] and d != c:
                before = True
            elif c == d:
                before = bool(rng.random() < 0.5)
            else:
                before = False
            mut_before[i] = before
            if before:
                allele_copies = [ev.a, ev.b]
                allele_copies = [x for x in allele_copies if x > 0]  # retained allele only
                mut_copies[i] = int(rng.choice(allele_copies))

    # -- expected VAFs ----------------------------------------------------------------------
    carries = np.zeros((n_mutations, n_clones))
    in_event = np.zeros((n_mutations, n_clones), dtype=bool)
    total_cn = np.full((n_mutations, n_clones), 2.0)
    for i in range(n_mutations):
        carries[i, list(desc[int(mut_clone[i])])] = 1.0
        if mut_event[i] >= 0:
            ev = events[mut_event[i]]
            in_event[i, list(desc[ev.clone])] = True
            total_cn[i, in_event[i]] = ev.major + ev.minor
    mutant = carries * np.where(in_event & mut_before[:, None], mut_copies[:, None], 1.0)
    numer = mutant @ prevalence * purities[None, :]
    tumour_cn = total_cn @ prevalence
    denom = purities[None, :] * tumour_cn + (1 - purities[None, :]) * 2.0
    expected_vaf = numer / denom
    mut_ccf = carries @ prevalence
    with np.errstate(invalid="ignore", divide="ignore"):
        multiplicity = np.where(mut_ccf > 0, (mutant @ prevalence) / mut_ccf, np.nan)

    # -- read sampling ----------------------------------------------------------------------
    p_obs = expected_vaf * (1 - error_rate) + (1 - expected_vaf) * error_rate
    shape = 16.0  # gamma shape of the depth distribution: CV ~ sqrt(1/16 + 1/depth)
    depths = rng.poisson(rng.gamma(shape, depth / shape, size=p_obs.shape))
    # binomial draws from the main stream always (its state after them seeds the lesions and
    # plasma); beta-binomial reads come from their own stream derived from the seed, so the
    # read model changes the alt counts and nothing else
    alts = rng.binomial(depths, p_obs)
    if overdispersion is not None:
        read_rng = np.random.default_rng([seed, 0x0D15])
        p_draw = read_rng.beta(p_obs * overdispersion, (1 - p_obs) * overdispersion)
        alts = read_rng.binomial(depths, p_draw)

    # reported (majority) copy number per mutation and sample
    rep_major = np.ones((n_mutations, n_regions), dtype=int)
    rep_minor = np.ones((n_mutations, n_regions), dtype=int)
    true_major = np.ones((n_mutations, n_regions))
    true_minor = np.ones((n_mutations, n_regions))
    for i in np.flatnonzero(mut_event >= 0).tolist():
        ev = events[mut_event[i]]
        event_ccf = ccf[ev.clone]
        majority = event_ccf >= 0.5
        rep_major[i] = np.where(majority, ev.major, 1)
        rep_minor[i] = np.where(majority, ev.minor, 1)
        true_major[i] = event_ccf * ev.major + (1 - event_ccf)
        true_minor[i] = event_ccf * ev.minor + (1 - event_ccf)

    idx_m, idx_s = np.meshgrid(np.arange(n_mutations), np.arange(n_regions), indexing="ij")
    im, js = idx_m.ravel(), idx_s.ravel()
    variants = pd.DataFrame(
        {
            "mutation_id": pd.array([mutation_ids[i] for i in im], dtype="string"),
            "sample_id": pd.array([samples[j] for j in js], dtype="string"),
            "ref_counts": (depths - alts).ravel().astype(np.int64),
            "alt_counts": alts.ravel().astype(np.int64),
            "major_cn": rep_major.ravel().astype(np.int64),
            "minor_cn": rep_minor.ravel().astype(np.int64),
            "normal_cn": np.full(im.size, 2, dtype=np.int64),
            "tumour_content": purities[js],
            "gene": pd.array([genes[i] for i in im], dtype="string"),
            "chrom": pd.array([f"{chrom_idx[i] + 1}" for i in im], dtype="string"),
            "pos": pos[im].astype(np.int64),
            "error_rate": np.full(im.size, error_rate),
        }
    )
    mutation_samples = pd.DataFrame(
        {
            "mutation_id": variants["mutation_id"],
            "sample_id": variants["sample_id"],
            "ccf": mut_ccf.ravel(),
            "multiplicity": multiplicity.ravel(),
            "expected_vaf": expected_vaf.ravel(),
            "major_cn_true": true_major.ravel(),
            "minor_cn_true": true_minor.ravel(),
        }
    )
    mutations = pd.DataFrame(
        {
            "mutation_id": pd.array(mutation_ids, dtype="string"),
            "clone_id": pd.array([clone_ids[k] for k in mut_clone], dtype="string"),
            "gene": pd.array(genes, dtype="string"),
            "chrom": pd.array([f"{c + 1}" for c in chrom_idx], dtype="string"),
            "pos": pos.astype(np.int64),
            "cn_event": pd.array(
                [events[e].event_id if e >= 0 else None for e in mut_event], dtype="string"
            ),
            "timing": pd.array(
                [
                    ("before" if b else "after") if e >= 0 else None
                    for e, b in zip(mut_event, mut_before, strict=True)
                ],
                dtype="string",
            ),
        }
    )
    cn_events = pd.DataFrame(
        {
            "event_id": [ev.event_id for ev in events],
            "chrom": [f"{ev.chrom_idx + 1}" for ev in events],
            "start": [ev.start for ev in events],
            "end": [ev.end for ev in events],
            "clone_id": [clone_ids[ev.clone] for ev in events],
            "major_cn": [ev.major for ev in events],
            "minor_cn": [ev.minor for ev in events],
            "kind": [ev.kind for ev in events],
        },
    ).astype({"event_id": "string", "chrom": "string", "clone_id": "string", "kind": "string"})
    segments = _segments(events, ccf, samples, lengths)

    clones = pd.DataFrame(
        {
            "clone_id": pd.array(clone_ids, dtype="string"),
            "parent": pd.array([clone_ids[p] if p >= 0 else None for p in parents], dtype="string"),
            "depth": np.asarray(depth_of, dtype=np.int64),
            "n_mutations": counts.astype(np.int64),
            "is_resistant": np.arange(n_clones) == resistant,
        }
    )
    k_grid, s_grid = np.meshgrid(np.arange(n_clones), np.arange(n_regions), indexing="ij")
    clone_ccf = pd.DataFrame(
        {
            "clone_id": pd.array([clone_ids[k] for k in k_grid.ravel()], dtype="string"),
            "sample_id": pd.array([samples[s] for s in s_grid.ravel()], dtype="string"),
            "ccf": ccf.ravel(),
            "prevalence": prevalence.ravel(),
        }
    )
    purity_table = pd.DataFrame(
        {"sample_id": pd.array(samples, dtype="string"), "purity": purities.astype(float)}
    )

    # -- lesions and therapy ----------------------------------------------------------------
    kill_rate = float(rng.uniform(0.01, 0.03))
    growth_rate = float(rng.uniform(0.006, 0.015))
    simulate_lesions = None
    if dynamics == "stochastic":
        simulate_lesions = _lesion_simulator(
            seed=seed,
            prevalence=prevalence,
            resistant=resistant,
            clone_ids=clone_ids,
            kill_rate=kill_rate,
            growth_rate=growth_rate,
            horizon_days=n_followups * assessment_interval_days,
            cells_per_ml=cells_per_ml,
        )
    elif dynamics != "closed_form":
        raise InputError(
            f"dynamics is {dynamics!r}", source="dynamics", fix="use closed_form or stochastic"
        )
    lesion_out = _lesions(
        rng,
        pid,
        n_lesions=n_lesions,
        primary_resistant=float(prevalence[resistant].mean()),
        kill_rate=kill_rate,
        growth_rate=growth_rate,
        n_followups=n_followups,
        interval=assessment_interval_days,
        start=pd.Timestamp(start_date),
        simulate_lesions=simulate_lesions,
    )
    lesions, lesion_truth, burden, burden_fn = lesion_out

    # -- ctDNA ------------------------------------------------------------------------------
    ctdna, ctdna_truth = _ctdna(
        rng,
        pid,
        prevalence=prevalence,
        desc=desc,
        resistant=resistant,
        burden_fn=burden_fn,
        mut_clone=mut_clone,
        mutation_ids=mutation_ids,
        genes=genes,
        clone_ids=clone_ids,
        days_end=n_followups * assessment_interval_days,
        interval=ctdna_interval_days,
        depth=ctdna_depth,
        error_rate=ctdna_error_rate,
        start=pd.Timestamp(start_date),
    )

    params = {
        "seed": seed,
        "n_clones": n_clones,
        "n_regions": n_regions,
        "n_mutations": n_mutations,
        "depth": depth,
        "purity": purities.tolist(),
        "error_rate": error_rate,
        "overdispersion": overdispersion,
        "n_cn_events": n_cn_events,
        "subclonal_cn_fraction": subclonal_cn_fraction,
        "min_ccf": min_ccf,
        "n_lesions": n_lesions,
        "n_followups": n_followups,
        "assessment_interval_days": assessment_interval_days,
        "ctdna_interval_days": ctdna_interval_days,
        "ctdna_depth": ctdna_depth,
        "ctdna_error_rate": ctdna_error_rate,
        "start_date": start_date,
        "dynamics": dynamics,
        "cells_per_ml": cells_per_ml,
        "kill_rate_per_day": kill_rate,
        "resistant_growth_rate_per_day": growth_rate,
    }
    return VirtualPatient(
        patient_id=pid,
        seed=seed,
        clones=clones,
        clone_ccf=clone_ccf,
        purity=purity_table,
        variants=variants,
        segments=segments,
        mutations=mutations,
        mutation_samples=mutation_samples,
        cn_events=cn_events,
        lesions=lesions,
        lesion_truth=lesion_truth,
        burden=burden,
        ctdna=ctdna,
        ctdna_truth=ctdna_truth,
        params=params,
    )


def _region_prevalences(
    rng: np.random.Generator, n_clones: int, n_regions: int, desc: list[set[int]], min_ccf: float
) -> np.ndarray:
    """Prevalence matrix (clones x regions); columns sum to 1; each subclone reaches min_ccf."""
    best = None
    for _ in range(200):
        prev = np.zeros((n_clones, n_regions))
        for s in range(n_regions):
            present = [k for k in range(1, n_clones) if rng.random() < 0.6]
            if not present and n_clones > 1:
                present = [int(rng.integers(1, n_clones))]
            members = [0, *present]
            alpha = np.array([0.5] + [1.5] * len(present))
            prev[members, s] = rng.dirichlet(alpha)
        ccf = np.array([prev[list(desc[k])].sum(axis=0) for k in range(n_clones)])
        if n_clones == 1 or ccf[1:].max(axis=1).min() >= min_ccf:
            return prev
        best = prev
    assert best is not None
    return best


def _genes(rng: np.random.Generator, mut_clone: np.ndarray, resistant: int) -> list[str]:
    """Driver genes on the first mutations of clones, synthetic names elsewhere."""
    genes = [f"GENE{i + 1:05d}" for i in range(mut_clone.size)]
    trunk = np.flatnonzero(mut_clone == 0)
    for j, d in enumerate(rng.choice(TRUNK_DRIVERS, size=min(2, trunk.size), replace=False)):
        genes[int(trunk[j])] = str(d)
    branch_pool = list(rng.permutation(BRANCH_DRIVERS))
    for k in sorted(set(mut_clone.tolist()) - {0}):
        first = int(np.flatnonzero(mut_clone == k)[0])
        if k == resistant:
            genes[first] = str(rng.choice(RESISTANCE_DRIVERS))
        elif branch_pool and rng.random() < 0.5:
            genes[first] = str(branch_pool.pop())
    return genes


def _segments(
    events: list[_Event], ccf: np.ndarray, samples: list[str], lengths: np.ndarray
) -> pd.DataFrame:
    """Per-sample segment table: each chromosome diploid except where an event lies."""
    rows = []
    by_chrom = {ev.chrom_idx: ev for ev in events}
    for s, sample in enumerate(samples):
        for c in range(22):
            length = int(lengths[c])
            ev = by_chrom.get(c)
            present = ev is not None and ccf[ev.clone, s] > 0
            if not present:
                rows.append((sample, str(c + 1), 1, length, 1, 1, 1.0))
                continue
            assert ev is not None
            if ev.start > 1:
                rows.append((sample, str(c + 1), 1, ev.start - 1, 1, 1, 1.0))
            rows.append(
                (sample, str(c + 1), ev.start, ev.end, ev.major, ev.minor,
                 float(round(ccf[ev.clone, s], 4)))
            )  # fmt: skip
            if ev.end < length:
                rows.append((sample, str(c + 1), ev.end + 1, length, 1, 1, 1.0))
    frame = pd.DataFrame(
        rows, columns=["sample_id", "chrom", "start", "end", "major_cn", "minor_cn", "ccf"]
    )
    return frame.astype({"sample_id": "string", "chrom": "string"})


def _lesions(
    rng: np.random.Generator,
    pid: str,
    *,
    n_lesions: int,
    primary_resistant: float,
    kill_rate: float,
    growth_rate: float,
    n_followups: int,
    interval: int,
    start: pd.Timestamp,
    simulate_lesions: Any = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, Any]:
    """Lesion diameters under continuous therapy: sensitive cells die, resistant ones grow.

    ``simulate_lesions(v0_ml, resistant_fraction)`` (optional) returns a :class:`_Simulated`
    whose cell counts replace the closed form.
    """
    sites = [("primary", False)] + [
        METASTATIC_SITES[int(i)] for i in rng.permutation(len(METASTATIC_SITES))
    ]
    lesion_ids = [f"L{i + 1}" for i in range(n_lesions)]
    organs = [sites[i][0] if i else "lung" for i in range(n_lesions)]
    nodes = [sites[i][1] for i in range(n_lesions)]
    d0 = np.array([rng.uniform(15, 35) if node else rng.uniform(15, 60) for node in nodes]).round(1)
    resistant_frac = np.concatenate(
        [[max(primary_resistant, 1e-4)], np.maximum(rng.beta(0.5, 6.0, n_lesions - 1), 1e-4)]
    )
    classes = ["target" if i < 5 else "non_target" for i in range(n_lesions)]
    v0 = math.pi / 6 * d0**3 / 1000.0  # ml

    simulated = None if simulate_lesions is None else simulate_lesions(v0, resistant_frac)

    def relative_burden(day: np.ndarray | float) -> np.ndarray:
        if simulated is not None:
            return simulated.relative(float(day))
        t = np.asarray(day, dtype=float)[..., None]
        rel = (1 - resistant_frac) * np.exp(-kill_rate * t) + resistant_frac * np.exp(
            growth_rate * t
        )
        return np.asarray(np.minimum(rel, 30.0))

    def burden_fn(day: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Total volume (ml) and resistant share of it at the given days."""
        if simulated is not None:
            rel = simulated.relative(float(day))
            return np.asarray((v0 * rel).sum()), np.asarray(simulated.resistant_share(float(day)))
        t = np.asarray(day, dtype=float)[..., None]
        sens = v0 * (1 - resistant_frac) * np.exp(-kill_rate * t)
        res = v0 * resistant_frac * np.exp(growth_rate * t)
        total = np.minimum(sens + res, 30.0 * v0).sum(axis=-1)
        return total, res.sum(axis=-1) / (sens + res).sum(axis=-1)

    rows = []
    burden_rows = []
    new_lesion_tp: int | None = None
    for tp in range(n_followups + 1):
        day = tp * interval
        date = start + pd.Timedelta(days=day)
        rel = relative_burden(day)
        true_d = d0 * np.cbrt(rel)
        total, res_share = burden_fn(day)
        burden_rows.append((tp, day, date, float(total), float(res_share)))
        for i in range(n_lesions):
            measured = float(true_d[i] + rng.normal(0, max(0.5, 0.03 * true_d[i])))
            if true_d[i] < 2.0:
                measured = 0.0
            elif measured < 5.0:
                measured = 5.0  # RECIST: too small to measure is recorded as 5 mm
            volume = math.pi / 6 * true_d[i] ** 3 / 1000 * float(rng.lognormal(0, 0.05))
            rows.append(
                (pid, lesion_ids[i], tp, date, organs[i], classes[i], nodes[i],
                 round(measured, 1), round(volume, 3),
                 "present" if classes[i] != "target" else None)
            )  # fmt: skip
        grown = tp > 0 and total > 1.2 * burden_rows[0][3]
        if new_lesion_tp is None and grown and rng.random() < 0.7:
            new_lesion_tp = tp
        if new_lesion_tp is not None:
            d_new = 8.0 + 4.0 * (tp - new_lesion_tp)
            rows.append(
                (pid, "N1", tp, date, "liver", "new", False, round(d_new, 1),
                 round(math.pi / 6 * d_new**3 / 1000, 3), "present")
            )  # fmt: skip
    lesions = pd.DataFrame(
        rows,
        columns=["patient_id", "lesion_id", "timepoint", "date", "organ", "lesion_class",
                 "is_lymph_node", "diameter_mm", "volume_ml", "status"],
    )  # fmt: skip
    lesions = lesions.astype(
        {"patient_id": "string", "lesion_id": "string", "organ": "string",
         "lesion_class": "string", "status": "string"}
    )  # fmt: skip
    truth = pd.DataFrame(
        {
            "lesion_id": pd.array(lesion_ids, dtype="string"),
            "organ": pd.array(organs, dtype="string"),
            "is_lymph_node": nodes,
            "baseline_diameter_mm": d0,
            "resistant_fraction": resistant_frac,
            "first_timepoint": np.zeros(n_lesions, dtype=np.int64),
        }
    )
    if new_lesion_tp is not None:
        truth.loc[len(truth)] = ["N1", "liver", False, 8.0, 1.0, new_lesion_tp]
    burden = pd.DataFrame(
        burden_rows, columns=["timepoint", "day", "date", "sum_volume_ml", "resistant_fraction"]
    )
    if simulated is not None:
        burden_fn.clone_share = simulated.clone_share  # type: ignore[attr-defined]
    return lesions, truth, burden, burden_fn


@dataclass(frozen=True)
class _Simulated:
    """Cell counts of every lesion's clones over days, from the stochastic engine."""

    days: np.ndarray  # (T,)
    counts: np.ndarray  # (lesions, T, clones)
    resistant: int

    def _at(self, day: float) -> np.ndarray:
        """(lesions, clones) counts at ``day`` (linear interpolation between samples)."""
        idx = np.searchsorted(self.days, day)
        if idx <= 0:
            return self.counts[:, 0, :]
        if idx >= self.days.size:
            return self.counts[:, -1, :]
        t0, t1 = self.days[idx - 1], self.days[idx]
        w = (day - t0) / (t1 - t0)
        return (1 - w) * self.counts[:, idx - 1, :] + w * self.counts[:, idx, :]

    def relative(self, day: float) -> np.ndarray:
        start = self.counts[:, 0, :].sum(axis=1)
        return np.asarray(self._at(day).sum(axis=1) / start)

    def resistant_share(self, day: float) -> float:
        now = self._at(day)
        return float(now[:, self.resistant].sum() / max(now.sum(), 1e-300))

    def clone_share(self, day: float) -> np.ndarray:
        now = self._at(day).sum(axis=0)
        return np.asarray(now / max(now.sum(), 1e-300))


def _lesion_simulator(
    *,
    seed: int,
    prevalence: np.ndarray,
    resistant: int,
    clone_ids: list[str],
    kill_rate: float,
    growth_rate: float,
    horizon_days: int,
    cells_per_ml: float,
) -> Any:
    """A function (v0_ml, resistant_fraction) -> _Simulated running one scenario per lesion."""

    def run(v0: np.ndarray, resistant_frac: np.ndarray) -> _Simulated:
        from ithkit.evolution._lesion import lesion_scenario
        from ithkit.evolution._simulate import simulate

        base = prevalence.mean(axis=1)
        sensitive = base.copy()
        sensitive[resistant] = 0.0
        sensitive /= sensitive.sum()
        # seeds from a child of the patient's seed: the main random stream is untouched
        children = np.random.SeedSequence(seed).spawn(1)[0].spawn(len(v0))
        days = np.arange(0, horizon_days + 1, dtype=float)
        counts = np.zeros((len(v0), days.size, len(clone_ids)))
        for lesion, (vol, frac) in enumerate(zip(v0, resistant_frac, strict=True)):
            share = (1 - frac) * sensitive
            share[resistant] = frac
            keep = {clone_ids[k]: float(share[k]) for k in range(len(clone_ids)) if share[k] > 0}
            total = sum(keep.values())
            scenario = lesion_scenario(
                {c: v / total for c, v in keep.items()},
                cells=float(vol) * cells_per_ml,
                resistant=[clone_ids[resistant]],
                kill_rate=kill_rate,
                growth_rate=growth_rate,
                horizon_days=float(max(horizon_days, 1)),
            )
            traj = simulate(
                scenario, seed=int(children[lesion].generate_state(1)[0]), engine="stochastic"
            ).trajectory
            t = traj["time_days"].to_numpy(dtype=float)
            for k, cid in enumerate(clone_ids):
                if cid in traj.columns:
                    counts[lesion, :, k] = np.interp(days, t, traj[cid].to_numpy(dtype=float))
        # the closed form's cap: a lesion stops growing at 30x its baseline cell number
        totals = counts.sum(axis=2, keepdims=True)
        counts *= np.minimum(1.0, 30.0 * totals[:, :1, :] / np.maximum(totals, 1e-300))
        return _Simulated(days, counts, resistant)

    return run


def _ctdna(
    rng: np.random.Generator,
    pid: str,
    *,
    prevalence: np.ndarray,
    desc: list[set[int]],
    resistant: int,
    burden_fn: Any,
    mut_clone: np.ndarray,
    mutation_ids: list[str],
    genes: list[str],
    clone_ids: list[str],
    days_end: int,
    interval: int,
    depth: float,
    error_rate: float,
    start: pd.Timestamp,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plasma VAFs: tumour fraction tracks burden, each clone's share tracks its cell number."""
    n_clones = prevalence.shape[0]
    # baseline whole-tumour prevalence: region average; the resistant clone's cells grow, the
    # others die, so clone shares change over time
    base = prevalence.mean(axis=1)
    sensitive = base.copy()
    sensitive[resistant] = 0.0
    sensitive /= sensitive.sum()
    panel: list[int] = []
    trunk_muts = np.flatnonzero(mut_clone == 0)
    panel += [int(i) for i in trunk_muts[:4]]
    for k in range(1, n_clones):
        ks = np.flatnonzero(mut_clone == k)
        panel += [int(i) for i in ks[: (3 if k == resistant else 1)]]
    tf0 = float(rng.uniform(0.03, 0.2))
    b0, _ = burden_fn(0.0)
    chip_vaf = float(rng.uniform(0.005, 0.02))
    days = np.arange(0, days_end + 1, interval)
    rows = []
    truth_rows = []
    for tp, day in enumerate(days):
        total, _ = burden_fn(float(day))
        rel = float(total[()] / b0[()])
        tf = tf0 * rel / (1 + tf0 * (rel - 1))
        total, res_share = burden_fn(float(day))
        if hasattr(burden_fn, "clone_share"):  # simulated: every clone's own trajectory
            share = burden_fn.clone_share(float(day))
        else:
            share = (1.0 - float(res_share)) * sensitive
            share[resistant] = float(res_share)
        clone_ccf = np.array([share[list(desc[k])].sum() for k in range(n_clones)])
        date = start + pd.Timedelta(days=int(day))
        cfdna = float(rng.lognormal(np.log(8.0 + 20.0 * tf), 0.3))
        entries: list[tuple[str, str, str | None, float, bool]] = [
            (mutation_ids[i], genes[i], clone_ids[int(mut_clone[i])],
             tf * clone_ccf[int(mut_clone[i])] / 2.0, False)
            for i in panel
        ]  # fmt: skip
        entries.append((f"chr2:25234373:C>T:{CHIP_GENE}", CHIP_GENE, None, chip_vaf, True))
        for mid, gene, clone, vaf, is_chip in entries:
            d = int(rng.poisson(rng.gamma(25.0, depth / 25.0)))
            d = max(d, 1)
            p = vaf * (1 - error_rate) + (1 - vaf) * error_rate
            a = int(rng.binomial(d, p))
            rows.append((pid, tp, date, mid, gene, a, d, round(cfdna, 2)))
            ccf_k = float("nan") if is_chip else float(clone_ccf[clone_ids.index(str(clone))])
            truth_rows.append((tp, int(day), mid, clone, tf, ccf_k, vaf, is_chip))
    ctdna = pd.DataFrame(
        rows,
        columns=["patient_id", "timepoint", "date", "mutation_id", "gene", "alt_counts", "depth",
                 "cfdna_ng_ml"],
    ).astype({"patient_id": "string", "mutation_id": "string", "gene": "string"})  # fmt: skip
    truth = pd.DataFrame(
        truth_rows,
        columns=["timepoint", "day", "mutation_id", "clone_id", "tumour_fraction", "clone_ccf",
                 "expected_vaf", "is_chip"],
    ).astype({"mutation_id": "string", "clone_id": "string"})  # fmt: skip
    return ctdna, truth
