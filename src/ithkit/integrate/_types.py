"""The objects that travel between the per-patient analyses (no analysis is imported here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ithkit.report import Section


@dataclass
class PatientData:
    """The validated inputs of one patient; any modality may be missing (None).

    Frames follow the contracts of :mod:`ithkit.schema`; cell-level data and scenarios stay
    paths, read by the analysis that needs them.
    """

    patient_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    manifest: Path | None = None
    seed: int | None = None  # the manifest's ``seed`` (written by ``ithkit demo``)
    variants: pd.DataFrame | None = None
    segments: pd.DataFrame | None = None
    purity: pd.DataFrame | None = None
    lesions: pd.DataFrame | None = None
    ctdna: pd.DataFrame | None = None
    images: pd.DataFrame | None = None
    singlecell: Path | None = None  # .h5ad, read by the single-cell analysis
    spatial: Path | None = None  # .h5ad, read by the spatial analysis
    scenario: Path | None = None  # therapy scenario YAML, run by the evolution analysis
    extra: dict[str, Any] = field(default_factory=dict)  # further manifest keys (new modalities)

    @property
    def modalities(self) -> list[str]:
        """Names of the inputs present."""
        names = ("variants", "segments", "purity", "lesions", "ctdna", "images", "singlecell",
                 "spatial", "scenario")  # fmt: skip
        return [n for n in names if getattr(self, n) is not None] + sorted(self.extra)

    def has(self, key: str) -> bool:
        """Whether the manifest gave input ``key`` (a field or an extra manifest key)."""
        value = getattr(self, key, None) if key != "extra" else None
        if value is None:
            value = self.extra.get(key)
        if isinstance(value, pd.DataFrame):
            return len(value) > 0
        return value is not None

    def samples(self) -> pd.DataFrame:
        """One row per sample: regions (genomic), lesions (imaging) and blood draws (liquid)."""
        rows: list[dict[str, Any]] = []
        if self.variants is not None:
            per = self.variants.groupby("sample_id", sort=False)["tumour_content"].first()
            rows += [
                {"sample_id": str(s), "modality": "genomic", "purity": float(p)}
                for s, p in per.items()
            ]
        if self.lesions is not None:
            first = self.lesions.sort_values("timepoint").groupby("lesion_id", sort=False).first()
            rows += [
                {"sample_id": str(lid), "modality": "lesion", "organ": str(r["organ"]),
                 "lesion_class": str(r["lesion_class"])}
                for lid, r in first.iterrows()
            ]  # fmt: skip
        if self.ctdna is not None:
            rows += [
                {"sample_id": f"plasma-t{int(tp)}", "modality": "liquid", "timepoint": int(tp)}
                for tp in sorted(self.ctdna["timepoint"].unique())
            ]
        return pd.DataFrame(rows, columns=None if rows else ["sample_id", "modality"])

    def summary(self) -> dict[str, Any]:
        """Headline counts of the data available."""
        out: dict[str, Any] = {"modalities": ", ".join(self.modalities)}
        if self.variants is not None:
            out["regions"] = int(self.variants["sample_id"].nunique())
            out["mutations"] = int(self.variants["mutation_id"].nunique())
        if self.lesions is not None:
            out["lesions"] = int(self.lesions["lesion_id"].nunique())
            out["assessments"] = int(self.lesions["timepoint"].nunique())
        if self.ctdna is not None:
            out["blood_draws"] = int(self.ctdna["timepoint"].nunique())
            out["ctdna_variants"] = int(self.ctdna["mutation_id"].nunique())
        return out


@dataclass(frozen=True)
class ProfileScore:
    """One score of the patient ITH profile (a row of ``profile.tsv``).

    ``value`` is a number or a category (e.g. ``"PR"``); ``source`` is the output table it was
    read from, relative to the run folder.
    """

    score: str
    value: float | int | str
    unit: str
    source: str
    note: str = ""


@dataclass(frozen=True)
class AnalysisOutput:
    """What one module's analysis of a patient gives later analyses, the store and the report.

    Attributes
    ----------
    result
        The module's typed result object (e.g. :class:`ithkit.genomic.GenomicResult`), handed
        in memory to the analyses that run after it (:class:`PatientResults`).
    tables
        Cohort-store table name (see :mod:`ithkit._names`) -> tidy frame of this patient.
    sections
        Report sections, in display order.
    profile
        The module's scores of the patient ITH profile.
    files
        Output files written, relative to the run folder.
    """

    result: Any = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    profile: list[ProfileScore] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)


class PatientResults:
    """The results of the analyses already run for one patient, by module name.

    Later analyses read earlier results here, in memory (clones for the ctDNA tracking,
    RECIST timepoints for the lead time), so no analysis depends on another's files.

    Examples
    --------
    >>> r = PatientResults()
    >>> "genomic" in r, r.get("genomic") is None
    (False, True)
    """

    def __init__(self) -> None:
        self._outputs: dict[str, AnalysisOutput] = {}
        self._skipped: dict[str, str] = {}

    def add(self, module: str, output: AnalysisOutput) -> None:
        """Record the output of ``module``."""
        self._outputs[module] = output

    def skip(self, module: str, reason: str) -> None:
        """Record that ``module`` did not run, and why (shown as ``not_measured``)."""
        self._skipped[module] = reason

    def get(self, module: str) -> Any:
        """The typed result of ``module``, or None when it did not run."""
        out = self._outputs.get(module)
        return None if out is None else out.result

    def output(self, module: str) -> AnalysisOutput | None:
        """The whole :class:`AnalysisOutput` of ``module``, or None."""
        return self._outputs.get(module)

    def __contains__(self, module: object) -> bool:
        return module in self._outputs

    @property
    def outputs(self) -> dict[str, AnalysisOutput]:
        """Module name -> output, in the order they ran."""
        return dict(self._outputs)

    @property
    def skipped(self) -> dict[str, str]:
        """Module name -> why it did not run."""
        return dict(self._skipped)
