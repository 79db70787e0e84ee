"""The registry of per-patient analyses: which manifest inputs each needs, in run order.

An adapter module ``ithkit.integrate._analyses.<name>`` defines
``analyze(data, results, out_dir, *, seed) -> AnalysisOutput``. It is imported only when the
patient has the inputs it needs, so a patient without images never imports the imaging stack.
A new modality adds one :class:`AnalysisSpec` line here and one adapter module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ithkit.integrate._types import AnalysisOutput, PatientData, PatientResults

    Adapter = Callable[..., AnalysisOutput]


@dataclass(frozen=True)
class AnalysisSpec:
    """One per-patient analysis.

    Attributes
    ----------
    name
        Module name (also the report anchor, the output folder and the profile's modality).
    needs
        Manifest inputs of which at least one must be present for the analysis to run.
    uses
        Earlier analyses whose results it reads when they ran (documentation and order check).
    """

    name: str
    needs: tuple[str, ...]
    uses: tuple[str, ...] = ()

    def applies(self, data: PatientData) -> bool:
        """Whether the patient has any of the inputs this analysis needs."""
        return any(data.has(k) for k in self.needs)

    def reason_missing(self) -> str:
        """The ``not_measured`` reason of a patient without these inputs."""
        keys = " or ".join(f"'{k}'" for k in self.needs)
        return f"no {keys} in the manifest"

    def adapter(self) -> Adapter:
        """Import the adapter module and return its ``analyze`` function."""
        module = importlib.import_module(f"ithkit.integrate._analyses.{self.name}")
        func: Adapter = module.analyze
        return func

    def run(
        self, data: PatientData, results: PatientResults, out_dir: Path, *, seed: int
    ) -> AnalysisOutput | None:
        """Run the adapter on the patient's data."""
        return self.adapter()(data, results, Path(out_dir), seed=seed)


# Run order: an analysis comes after those it uses.
REGISTRY: tuple[AnalysisSpec, ...] = (
    AnalysisSpec("genomic", ("variants", "vcf")),
    AnalysisSpec("response", ("lesions",)),
    AnalysisSpec("liquid", ("ctdna",), uses=("genomic", "response")),
    AnalysisSpec("singlecell", ("singlecell",)),
    AnalysisSpec("spatial", ("spatial",)),
    AnalysisSpec("imaging", ("images",), uses=("response", "genomic")),
    AnalysisSpec("evolution", ("scenario",)),
    AnalysisSpec("pathology", ("pathology",)),
    AnalysisSpec("functional", ("functional",)),
    AnalysisSpec("epigenetic", ("methylation",), uses=("genomic",)),
)

NAMES: tuple[str, ...] = tuple(s.name for s in REGISTRY)


def spec(name: str) -> AnalysisSpec:
    """The registered analysis called ``name``.

    Raises
    ------
    ithkit.InputError
        For a name that is not registered (the message lists the names).
    """
    for s in REGISTRY:
        if s.name == name:
            return s
    from ithkit._errors import InputError

    raise InputError(f"unknown analysis {name!r}", fix=f"choose among {', '.join(NAMES)}")
