"""The demo: a virtual patient put through the store and the report, end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from ithkit import _names
from ithkit.integrate._types import PatientResults
from ithkit.integrate.patient import PatientRun, _run_atomically
from ithkit.report import Section


def run_demo(
    out_dir: str | Path = "demo_out",
    *,
    seed: int = 7,
    n_regions: int = 4,
    store: str | Path | None = None,
    show_progress: bool = False,
    show_identifiers: bool = False,
) -> PatientRun:
    """Generate a virtual patient, write its files, store them and write the report.

    The patient's files (``variants.tsv``, ``lesions.csv``, ``ctdna.csv``, ``patient.yaml``
    and the truth) go to ``out_dir/data`` so every other command can be tried on them.

    Parameters
    ----------
    out_dir
        Output folder: ``report.html``, ``ithkit.duckdb`` and ``data/``.
    seed
        Seed of the virtual patient.
    n_regions
        Number of sequenced regions.
    store
        Cohort store path (default ``out_dir/ithkit.duckdb``).
    show_progress
        One line per stage with its time, on stderr.
    show_identifiers
        Show identifying manifest attributes in the report (the virtual patient has none).

    Notes
    -----
    The manifest records ``seed``, so ``ithkit run out_dir/data/patient.yaml`` gives the same
    numbers as the demo. Without numba (the ``[evolution]`` extra) the lesions follow the
    closed-form growth model instead of the stochastic engine.

    Examples
    --------
    >>> import tempfile
    >>> run = run_demo(tempfile.mkdtemp(), seed=1, n_regions=2)  # doctest: +SKIP
    """
    import importlib.util

    import yaml

    from ithkit._progress import stage
    from ithkit.evolution import virtual_patient
    from ithkit.report import sections

    out = Path(out_dir)
    # lesions and plasma from the stochastic engine: one evolving tumour behind every modality
    dynamics: Literal["closed_form", "stochastic"] = (
        "stochastic" if importlib.util.find_spec("numba") is not None else "closed_form"
    )
    with stage("simulate", enabled=show_progress):
        vp = virtual_patient(
            seed=seed, n_regions=n_regions, patient_id=f"DEMO-{seed}", dynamics=dynamics
        )

    def write_files(folder: Path) -> Path:
        # into the run's temporary folder: the files land in out_dir/data with the report
        with stage("data files", enabled=show_progress):
            files = vp.to_files(folder / "data")
            manifest = Path(files["manifest"])
            keys: dict[str, Any] = {"seed": seed}
            keys.update(_add_cell_level_data(manifest.parent, seed=seed))
            keys.update(_add_images(manifest.parent, vp.lesions, seed=seed))
            keys.update(_add_methylation(manifest.parent, vp, seed=seed))
            data = yaml.safe_load(manifest.read_text())
            data.update(keys)
            manifest.write_text(yaml.safe_dump(data, sort_keys=False))
        return manifest

    def truth(results: PatientResults) -> Section:
        mapping = None
        inferred = results.get("genomic")
        if inferred is not None:
            from ithkit.genomic import match_clones

            mapping = match_clones(vp.mutations, inferred.mutations)
        return sections.truth_section(vp.clones, vp.clone_ccf, vp.tree_newick(), mapping)

    return _run_atomically(
        write_files,
        out,
        store=store,
        seed=seed,
        show_progress=show_progress,
        show_identifiers=show_identifiers,
        analyses=None,
        extra_sections=[truth],
        extra_tables={
            _names.TRUTH_CLONES: vp.clones,
            _names.TRUTH_CLONE_CCF: vp.clone_ccf,
            _names.TRUTH_MUTATIONS: vp.mutations,
            _names.TRUTH_LESIONS: vp.lesion_truth,
            _names.TRUTH_CTDNA: vp.ctdna_truth,
        },
    )


def _add_cell_level_data(folder: Path, *, seed: int) -> dict[str, str]:
    """Give the demo patient scRNA-seq and a spatial section when anndata is installed.

    The cells are simulated by :mod:`ithkit.singlecell` and :mod:`ithkit.spatial` (planted
    arm-level subclones; an immune-excluded tumour), so the report shows those sections too.
    Without the ``[singlecell]`` extra the demo runs on the bulk modalities alone.
    """
    import importlib.util

    if importlib.util.find_spec("anndata") is None:
        return {}
    from ithkit.singlecell import simulate_scrna
    from ithkit.spatial import simulate_tissue

    simulate_scrna(1500, 2000, n_subclones=3, seed=seed).write_h5ad(folder / "singlecell.h5ad")
    simulate_tissue("immune_excluded", 3000, seed=seed).write_h5ad(folder / "spatial.h5ad")
    return {"singlecell": "singlecell.h5ad", "spatial": "spatial.h5ad"}


def _add_methylation(folder: Path, vp: Any, *, seed: int) -> dict[str, Any]:
    """Read-level methylation calls of every region (Bismark CpG-context files), with
    epialleles inherited along the patient's clone tree (:func:`ithkit.epigenetic.
    simulate_methylation`), so the report shows the epigenetic section and its tree comparison.
    """
    from ithkit.epigenetic import simulate_methylation

    sim = simulate_methylation(
        vp.clones, vp.clone_ccf, purity=vp.purity, n_loci=200, depth=30, seed=seed
    )
    files = sim.write(folder / "methylation")
    return {"methylation": {r: f"methylation/{p.name}" for r, p in files.items()}}


def _add_images(folder: Path, lesions: Any, *, seed: int) -> dict[str, str]:
    """CT of each target lesion at baseline and at the last assessment (needs ``[imaging]``).

    Each image is a synthetic CT (2 mm voxels) of a lesion of the measured diameter made of
    three habitats of known extent (:func:`ithkit.imaging.synthetic_ct`), so the report shows
    the imaging section: features, maps, habitats and volumes over time.
    """
    import importlib.util

    if importlib.util.find_spec("SimpleITK") is None or importlib.util.find_spec("numba") is None:
        return {}
    import math

    import pandas as pd

    from ithkit.imaging import synthetic_ct, write_volume
    from ithkit.io import write_table

    (folder / "images").mkdir(exist_ok=True)
    last = int(lesions["timepoint"].max())
    chosen = lesions[
        (lesions["lesion_class"].astype(str) == "target")
        & lesions["timepoint"].isin([0, last])
        & (lesions["diameter_mm"] >= 5)
    ]
    rows = []
    for i, r in enumerate(chosen.itertuples(index=False)):
        radius = float(r.diameter_mm) / 2
        n = math.ceil(radius) + 8  # voxels of 2 mm across the lesion, plus a margin
        lesion = synthetic_ct(
            shape=(n, n, n), spacing=(2.0, 2.0, 2.0), radius_mm=radius, seed=seed + i
        )
        stem = f"{r.lesion_id}_t{int(r.timepoint)}"
        write_volume(lesion.image, folder / "images" / f"{stem}_ct.nii.gz")
        write_volume(lesion.mask, folder / "images" / f"{stem}_mask.nii.gz")
        rows.append(
            (r.patient_id, r.lesion_id, int(r.timepoint), f"images/{stem}_ct.nii.gz",
             f"images/{stem}_mask.nii.gz", 1)
        )  # fmt: skip
    columns = ["patient_id", "lesion_id", "timepoint", "image", "mask", "label"]
    write_table(pd.DataFrame(rows, columns=columns), folder / "images.csv")
    return {"images": "images.csv"}
