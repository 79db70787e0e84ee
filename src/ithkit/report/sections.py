"""Report sections for the data every patient brings (one builder per kind of input or result).

Builders take tables that were already computed or read and return a
:class:`~ithkit.report.Section`; figures are drawn by :mod:`ithkit.report.figures`. Without the
``[report]`` extra the figures are replaced by a note and the tables remain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from ithkit._errors import OptionalDependencyError
from ithkit.report._render import (
    Alert,
    Figure,
    Item,
    KeyValues,
    Section,
    Table,
    Text,
    format_value,
    human_header,
)


def _figure(title: str, draw: Callable[[], Any], caption: str = "") -> Item:
    try:
        from ithkit.report.figures import to_svg

        return Figure(title, to_svg(draw()), caption)
    except OptionalDependencyError as exc:
        return Text(f"{title}: figure not drawn ({exc}).")


# manifest ``attributes`` whose key contains one of these words are identifying: the report
# leaves them out unless asked (``ithkit run --show-identifiers``); matching ignores case
IDENTIFYING_KEY_PATTERNS = (
    "name", "birth", "dob", "mrn", "address", "phone", "ssn", "email", "zip", "postcode",
    "postal", "insurance", "nhs", "medicare", "passport", "accession", "record_number",
    "hospital_id", "national_id", "social_security",
)  # fmt: skip


def is_identifying(key: str) -> bool:
    """Whether a manifest attribute key names a personal identifier.

    Examples
    --------
    >>> [is_identifying(k) for k in ("PatientName", "date_of_birth", "MRN", "age", "stage")]
    [True, True, True, False, False]
    """
    low = key.lower().replace("-", "_").replace(" ", "_")
    compact = low.replace("_", "")
    return any(p in low or p.replace("_", "") in compact for p in IDENTIFYING_KEY_PATTERNS)


def patient_section(
    patient_id: str,
    summary: Mapping[str, Any],
    attributes: Mapping[str, Any] | None = None,
    *,
    show_identifiers: bool = False,
) -> Section:
    """The patient's data at a glance: the counts of each input and the manifest's attributes.

    Attributes whose key looks identifying (:data:`IDENTIFYING_KEY_PATTERNS`) are left out
    unless ``show_identifiers``; the report then says how many were hidden.
    """
    attrs = dict(attributes or {})
    hidden = [] if show_identifiers else [k for k in attrs if is_identifying(str(k))]
    values: dict[str, Any] = {"Patient": patient_id}
    values.update({human_header(str(k)): v for k, v in summary.items() if k != "patient_id"})
    values.update({str(k): v for k, v in attrs.items() if k not in hidden and k != "patient_id"})
    items: list[Item] = [KeyValues("Data available", values)]
    if hidden:
        items.append(
            Text(
                f"{len(hidden)} identifying attribute(s) of the manifest not shown "
                "(ithkit run --show-identifiers shows them)."
            )
        )
    return Section("patient", "Patient data", items)


def regions_section(regions: pd.DataFrame, mutation_ccf: pd.DataFrame) -> Section:
    """Per-region sequencing summary (``genomic/regions.tsv``) and the VAF per region.

    ``regions`` holds ``sample_id, n_mutations, n_detected, mean_depth, median_vaf,
    tumour_content`` (the purity the CCFs used) and, when the manifest has a purity table,
    ``manifest_purity`` and ``purity_differs``; regions where the two differ get a warning.
    """
    from ithkit.report import figures

    shown = regions.drop(columns=[c for c in ("patient_id", "purity_differs") if c in regions])
    items: list[Item] = []
    if "purity_differs" in regions.columns and regions["purity_differs"].astype(bool).any():
        bad = regions[regions["purity_differs"].astype(bool)]
        pairs = ", ".join(
            f"{r.sample_id}: {format_value(r.tumour_content)} used, "
            f"{format_value(r.manifest_purity)} in the purity table"
            for r in bad.itertuples(index=False)
        )
        items.append(
            Alert(
                "Purity differs between the variants' tumour_content (used for the CCFs) and "
                f"the manifest's purity table: {pairs}. Check which one is right."
            )
        )
    items += [
        Table(
            "Regions",
            shown,
            "Detected: mutations with at least one alt read in the region. Purity used: the "
            "variants' tumour_content, from which the cancer cell fractions were computed.",
            source="genomic/regions.tsv",
            headers={
                "tumour_content": "Purity used",
                "manifest_purity": "Purity table",
                "n_detected": "Detected",
                "mean_depth": "Mean depth (reads)",
            },
        ),
        _figure(
            "VAF per region",
            lambda: figures.vaf_by_region(mutation_ccf, regions),
        ),
    ]
    return Section("regions", "Regions and sequencing data", items)


def truth_section(
    clones: pd.DataFrame,
    clone_ccf: pd.DataFrame,
    newick: str,
    mapping: pd.DataFrame | None = None,
) -> Section:
    """The known clone tree of a virtual patient (ground truth, not an inference).

    ``mapping`` (:func:`ithkit.genomic.match_clones`: true clone -> inferred clone by majority
    overlap) says which inferred ``C`` label stands for which true clone.
    """
    from ithkit.report import figures

    items: list[Item] = [
        Text(
            "This patient is simulated: the tree and clone fractions below are the ground "
            "truth the analyses are judged against. True clones are labelled 'true C1'..., "
            f"inferred clones C1...; the table maps them. Newick: {newick}"
        ),
        _figure("Clone tree and CCF per region", lambda: figures.clone_tree(clones, clone_ccf)),
        Table(
            "True clones",
            clones.assign(clone_id="true " + clones["clone_id"].astype(str)),
            source="data/truth/clones.tsv",
        ),
    ]
    if mapping is not None and len(mapping):
        shown = mapping.assign(reference_clone="true " + mapping["reference_clone"].astype(str))
        items.insert(1, Table("True clone -> inferred clone (majority of its mutations)", shown))
    return Section("truth", "True clone tree (virtual patient)", items)


def ctdna_section(ctdna: pd.DataFrame) -> Section:
    """Plasma read counts as given (shown when the ctDNA analysis did not run)."""
    from ithkit.report import figures

    return Section(
        "ctdna",
        "Circulating tumour DNA (input)",
        [
            Text("The ctDNA analysis did not run: the plasma read counts are shown as given."),
            _figure("Plasma VAF per mutation", lambda: figures.ctdna_series(ctdna)),
            Table("Plasma read counts", ctdna, collapsed=True),
        ],
    )
