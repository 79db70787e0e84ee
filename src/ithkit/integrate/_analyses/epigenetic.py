"""The epigenetic analysis of one patient, as ``ithkit run`` and ``ithkit demo`` apply it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ithkit import _names
from ithkit.integrate._types import AnalysisOutput, PatientData, PatientResults, ProfileScore

_COVERAGE_SUFFIXES = (".cov", ".cov.gz", ".bedgraph", ".bedgraph.gz", ".bg", ".bg.gz")


def analyze(
    data: PatientData, results: PatientResults, out_dir: Path, *, seed: int
) -> AnalysisOutput:
    """Read-level methylation heterogeneity per region and methylation ITH across regions.

    The manifest's ``methylation:`` is either a mapping region id -> file (Bismark CpG-context
    calls or BAM: read-level metrics and per-CpG betas; Bismark ``.cov``/bedGraph: betas only)
    or one path to a beta matrix (regions as columns). With two or more regions, distances,
    the variably methylated fraction and the methylation tree follow; with this run's genomic
    result covering the same regions, the tree is compared with the genetic region tree (clone
    CCFs in memory). Files go to ``out_dir/epigenetic/``. ``seed`` is unused (nothing random).
    """
    from ithkit.epigenetic import (
        methylation_ith,
        read_beta_matrix,
        read_coverage,
        read_heterogeneity,
        region_betas,
    )
    from ithkit.report.epigenetic import epigenetic_section

    value = data.extra["methylation"]
    out = Path(out_dir) / "epigenetic"
    read_level = None
    tables: dict[str, Any] = {}
    if isinstance(value, dict):
        files = {str(k): Path(v) for k, v in value.items()}
        is_cov = {r: f.name.lower().endswith(_COVERAGE_SUFFIXES) for r, f in files.items()}
        reads = [r for r in files if not is_cov[r]]
        per_cpg: dict[str, Any] = {}
        if reads:
            read_level = read_heterogeneity([files[r] for r in reads], sample_ids=reads)
            read_level.write(out)
            per_cpg.update(dict(iter(read_level.cpgs.groupby("sample_id", sort=False))))
            tables[_names.EPIGENETIC_SUMMARY] = read_level.summary
        for r, f in files.items():
            if is_cov[r]:
                per_cpg[r] = read_coverage(f)
        betas = region_betas({r: per_cpg[r] for r in files})
    else:
        betas = read_beta_matrix(value)
    regions = None
    note = ""
    if betas.shape[1] >= 2:
        genomic = results.get("genomic")
        clone_ccf = clones = None
        if genomic is not None:
            sampled = set(genomic.clones["sample_id"].astype(str))
            missing = [r for r in betas.columns if str(r) not in sampled]
            if missing:
                note = f"no genetic clones for region(s) {', '.join(missing)}"
            else:
                clone_ccf, clones = genomic.clones, genomic.clones
        else:
            note = "no genomic result for the same regions"
        regions = methylation_ith(
            betas, clone_ccf=clone_ccf, clones=clones,
            read_level=None if read_level is None else read_level.summary,
            source="methylation",
        )  # fmt: skip
        regions.write(out)
        tables[_names.EPIGENETIC_REGIONS] = regions.regions
        tables[_names.EPIGENETIC_DISTANCE] = regions.distance
        tables[_names.EPIGENETIC_ITH] = regions.summary
    return AnalysisOutput(
        result={"read_level": read_level, "regions": regions},
        tables=tables,
        sections=[epigenetic_section(read_level=read_level, regions=regions)],
        profile=epigenetic_profile(read_level, regions, note=note),
    )


def epigenetic_profile(read_level: Any, regions: Any, *, note: str = "") -> list[ProfileScore]:
    """Median PDR and epipolymorphism over the regions (each a median over its loci), the mean
    methylation distance between regions and the normalised Robinson-Foulds distance between
    the methylation and genetic trees of the regions."""
    out: list[ProfileScore] = []
    if read_level is not None and len(read_level.summary):
        s = read_level.summary
        opts = f"{read_level.cpgs_per_locus}-CpG loci, >= {read_level.min_reads} reads"
        for score, col in (("median_pdr", "median_pdr"),
                           ("median_epipolymorphism", "median_epipolymorphism")):  # fmt: skip
            vals = s[col].to_numpy(dtype=float)
            vals = vals[~np.isnan(vals)]
            out.append(
                ProfileScore(score, float(np.median(vals)) if vals.size else float("nan"),
                             "fraction", "epigenetic/summary.tsv",
                             f"median over {len(s)} region(s) of per-locus medians; {opts}")
            )  # fmt: skip
    if regions is not None:
        r = regions.summary.iloc[0]
        out.append(
            ProfileScore("methylation_region_distance_mean", float(r["distance_mean"]),
                         "mean |delta beta|", "epigenetic/ith.tsv",
                         f"{int(r['n_regions'])} regions")
        )  # fmt: skip
        rf, rf_max = r["tree_rf"], r["tree_rf_max"]
        if regions.genetic_tree is None:
            value, why = float("nan"), note or "no genetic tree"
        elif int(rf_max) == 0:
            value, why = float("nan"), "fewer than 4 regions: trees cannot disagree"
        else:
            value, why = float(r["tree_rf_normalised"]), f"RF {int(rf)} of {int(rf_max)}"
        out.append(
            ProfileScore("epi_genetic_tree_rf", value, "fraction", "epigenetic/ith.tsv",
                         f"methylation vs genetic region tree (normalised RF); {why}")
        )  # fmt: skip
    return out
