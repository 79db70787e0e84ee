"""Genomic benchmark: ithkit clone inference vs PyClone-VI (ARI and wall time).

Run: ``.venv/bin/python benchmarks/genomic.py [--sizes 100,1000,10000] [--regions 1,4,10]``
(``--patients 6`` repeats each size on 6 virtual patients and prints the mean ARI per size).

Prints one row per (mutations x regions) virtual patient plus one for PyClone-VI's own synthetic
set (``../shared/reference/pyclone_vi_synthetic.tsv``, 8 true clusters): adjusted Rand index of
the clone assignment against the truth, wall time in seconds and the speed-up. It also checks
MATH on maftools' TCGA-LAML MAF against the values listed in ``../shared/reference/README.md``.

PyClone-VI is not on PyPI and is GPL-3: it is never a dependency of ithkit. The benchmark runs
it from its own environment, made once from the public source::

    git clone https://github.com/Roth-Lab/pyclone-vi /tmp/pyclone_src
    python3 -m venv /tmp/bench_pyclone
    /tmp/bench_pyclone/bin/pip install numpy scipy pandas numba h5py click
    /tmp/bench_pyclone/bin/pip install --no-deps /tmp/pyclone_src

and calls ``pyclone-vi fit`` + ``write-results-file`` as a user would (``-c 40 -r 10``, the
settings of the reference numbers; every call pays numba's JIT compilation, as users do, since
PyClone-VI 0.1.6 does not cache it). Without that environment only ithkit's columns are filled.

Pairtree (Wintersinger et al. 2022) runs the same way from ``/tmp/bench_pairtree`` and
``/tmp/pairtree_src`` (set-up, input conversion and settings in ``genomic_trees.py``), on
virtual patients of at most ``--pairtree-max`` mutations (1,000 by default: its clustering and
pairwise tensors grow with the square of the mutations): ``pairtree_*`` columns are its own
clusters (``clustervars``) with the tree ``pairtree`` builds on them, seconds for both;
``pt_truecl_tree`` is ``pairtree`` on the true clusters.

``--dispersions binomial,200,60,30`` adds the read-model axis (issue 16): virtual patients of
``--disp-size`` mutations x ``--disp-regions`` regions at ``--disp-depth`` whose reads are
binomial or beta-binomial with that precision; ithkit with its default (the precision
estimated from the data) and with the true precision given (``--precision``, the oracle),
PyClone-VI with ``-d binomial`` and ``-d beta-binomial``. ``--dispersions`` alone skips the
size table. ``*_tree`` is 1 when the best tree is
exactly the true clone tree (each inferred clone mapped to the true clone most of its mutations
come from; ithkit's tree is :func:`ithkit.genomic.analyze`'s). Without Pairtree those columns
are empty, with a note. ``--cache`` keeps Pairtree runs next to PyClone-VI's
(``*.pairtree.json``). ``genomic_trees.py`` scores trees over several seeds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from ithkit import genomic
from ithkit.evolution import virtual_patient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from genomic_trees import (
    ithkit_tree,
    pairtree_available,
    run_pairtree_cached,
    tree_right,
    true_parents,
)

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
PYCLONE = Path("/tmp/bench_pyclone/bin/pyclone-vi")
PAIRTREE_NOTE = "/tmp/bench_pairtree + /tmp/pairtree_src (see genomic_trees.py)"
COLUMNS = [
    "mutation_id", "sample_id", "ref_counts", "alt_counts", "major_cn", "minor_cn", "normal_cn",
    "tumour_content",
]  # fmt: skip
# maftools math.score, non-synonymous variants, VAF >= 0.075, >= 5 variants (reference README)
MAFTOOLS_MATH = {
    "TCGA-AB-3009": 9.0450,
    "TCGA-AB-2849": 20.5883,
    "TCGA-AB-3002": 6.9912,
    "TCGA-AB-2972": 11.6216,
}


def run_ithkit(
    variants: pd.DataFrame, seed: int, precision: float | str | None = "auto"
) -> tuple[pd.Series | None, float, int]:
    labels, elapsed, k, _ = run_ithkit_model(variants, seed, precision)
    return labels, elapsed, k


def run_ithkit_model(
    variants: pd.DataFrame, seed: int, precision: float | str | None = "auto"
) -> tuple[pd.Series, float, int, float | None]:
    """Labels, seconds, clones found and the precision used."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = genomic.cluster_mutations(variants[COLUMNS], seed=seed, precision=precision)
    elapsed = time.perf_counter() - start
    labels = result.assignments.set_index("mutation_id")["clone_id"]
    return labels, elapsed, int(labels.nunique()), result.precision


def run_pyclone_cached(
    name: str, variants: pd.DataFrame, args: argparse.Namespace, density: str = "binomial"
) -> tuple[pd.Series | None, float, str]:
    """PyClone-VI's labels and time, reused from ``--cache`` when that run was done before."""
    if args.cache is None:
        return run_pyclone(variants, args.seed, args.timeout, args.clusters, args.restarts, density)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    stem = f"{name.replace(' ', '_')}_s{args.seed}_c{args.clusters}_r{args.restarts}"
    if density != "binomial":
        stem += f"_{density}"
    labels_file, meta_file = cache / f"{stem}.tsv", cache / f"{stem}.meta"
    if meta_file.exists():
        elapsed_text, _, note = meta_file.read_text().partition("\t")
        labels = None
        if labels_file.exists():
            frame = pd.read_csv(labels_file, sep="\t", dtype={"mutation_id": str})
            labels = frame.set_index("mutation_id")["cluster_id"]
        return labels, float(elapsed_text), note.strip()
    labels, elapsed, note = run_pyclone(
        variants, args.seed, args.timeout, args.clusters, args.restarts, density
    )
    if labels is not None:
        labels.rename("cluster_id").reset_index().to_csv(labels_file, sep="\t", index=False)
    meta_file.write_text(f"{elapsed}\t{note}\n")
    return labels, elapsed, note


def run_pyclone(
    variants: pd.DataFrame,
    seed: int,
    timeout: float,
    clusters: int,
    restarts: int,
    density: str = "binomial",
) -> tuple[pd.Series | None, float, str]:
    if not PYCLONE.exists():
        return None, float("nan"), "not installed"
    tmp = Path(tempfile.mkdtemp(prefix="bench_pyclone_"))
    try:
        table = variants[COLUMNS].copy()
        table.to_csv(tmp / "in.tsv", sep="\t", index=False)
        start = time.perf_counter()
        fit = [str(PYCLONE), "fit", "-i", str(tmp / "in.tsv"), "-o", str(tmp / "fit.h5")]
        fit += ["-c", str(clusters), "-d", density, "-r", str(restarts), "--seed", str(seed)]
        write = [str(PYCLONE), "write-results-file", "-i", str(tmp / "fit.h5")]
        write += ["-o", str(tmp / "out.tsv")]
        try:
            subprocess.run(fit, check=True, capture_output=True, timeout=timeout)
            subprocess.run(write, check=True, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, time.perf_counter() - start, f"timeout > {timeout:.0f} s"
        elapsed = time.perf_counter() - start
        out = pd.read_csv(tmp / "out.tsv", sep="\t", dtype={"mutation_id": str})
        labels = out.drop_duplicates("mutation_id").set_index("mutation_id")["cluster_id"]
        return labels, elapsed, ""
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ari(truth: pd.Series, labels: pd.Series | None) -> float:
    if labels is None:
        return float("nan")
    common = truth.index.intersection(labels.index)
    return float(adjusted_rand_score(truth.loc[common], labels.loc[common]))


def cases(sizes: list[int], regions: list[int], seed: int, patients: int = 1):  # type: ignore[no-untyped-def]
    for n_mut in sizes:
        for n_reg in regions:
            for vp_seed in range(seed, seed + patients):
                # binomial reads, as in the published table; --dispersions covers the others
                vp = virtual_patient(
                    seed=vp_seed, n_regions=n_reg, n_mutations=n_mut, depth=200,
                    overdispersion=None,
                )  # fmt: skip
                truth = vp.mutations.set_index("mutation_id")["clone_id"].astype(str)
                name = f"VP {n_mut} x {n_reg}" + (f" #{vp_seed}" if patients > 1 else "")
                yield name, vp.variants, truth, vp.clones
    if patients > 1:
        return
    path = REFERENCE / "pyclone_vi_synthetic.tsv"
    if path.exists():
        raw = pd.read_csv(path, sep="\t", dtype={"mutation_id": str, "sample_id": str})
        truth = raw.drop_duplicates("mutation_id").set_index("mutation_id")["cluster"]
        yield "PyClone-VI synthetic 100 x 4", raw, truth.astype(str), int(truth.nunique())


def pairtree_columns(
    name: str,
    variants: pd.DataFrame,
    truth: pd.Series,
    clones: pd.DataFrame | None,
    args: argparse.Namespace,
) -> dict:
    """Pairtree's clusters, ARI, seconds and tree correctness (NaN when skipped), and a note."""
    empty = {"pairtree_clones": np.nan, "pairtree_ari": np.nan, "pairtree_s": np.nan,
             "pairtree_tree": np.nan, "pt_truecl_tree": np.nan}  # fmt: skip
    if args.no_pairtree:
        return empty | {"pt_note": "skipped"}
    if not pairtree_available():
        return empty | {"pt_note": "pairtree not installed"}
    if variants["mutation_id"].nunique() > args.pairtree_max:
        return empty | {"pt_note": f"> {args.pairtree_max} mutations"}
    stem = f"{name.replace(' ', '_')}_s{args.seed}"
    own = run_pairtree_cached(f"{stem}_clustervars", variants[COLUMNS], None, args)
    out = empty | {"pt_note": own["note"]}
    if own["labels"] is not None:
        out["pairtree_clones"] = int(own["labels"].nunique())
        out["pairtree_ari"] = round(ari(truth, own["labels"]), 3)
    out["pairtree_s"] = round(np.nansum([own["cluster_s"], own["tree_s"]]), 2)
    if clones is not None:
        tp = true_parents(clones)
        out["pairtree_tree"] = tree_right(truth, own["labels"], own["parents"], tp)[0]
        on_truth = run_pairtree_cached(f"{stem}_true", variants[COLUMNS], truth, args)
        out["pt_truecl_tree"] = tree_right(truth, on_truth["labels"], on_truth["parents"], tp)[0]
        if on_truth["note"]:
            out["pt_note"] = "; ".join(x for x in (out["pt_note"], on_truth["note"]) if x)
    return out


def dispersion_table(args: argparse.Namespace) -> pd.DataFrame:
    """ithkit (estimated and given precision) vs PyClone-VI (binomial, beta-binomial)."""
    rows = []
    for text in args.dispersions.split(","):
        precision = None if text.strip() == "binomial" else float(text)
        for vp_seed in range(args.seed, args.seed + args.patients):
            vp = virtual_patient(
                seed=vp_seed, n_regions=args.disp_regions, n_mutations=args.disp_size,
                depth=args.disp_depth, overdispersion=precision,
            )  # fmt: skip
            truth = vp.mutations.set_index("mutation_id")["clone_id"].astype(str)
            name = f"VP{vp_seed} {args.disp_size} x {args.disp_regions} {text}"
            labels, t_auto, k_auto, used = run_ithkit_model(vp.variants, args.seed)
            given, t_given, k_given, _ = run_ithkit_model(vp.variants, args.seed, precision)
            row = {
                "reads": text, "vp": vp_seed, "true_clones": len(vp.clones),
                "ithkit_precision": "binomial" if used is None else f"{used:g}",
                "ithkit_clones": k_auto, "ithkit_ari": round(ari(truth, labels), 3),
                "ithkit_s": round(t_auto, 2),
                "given_clones": k_given, "given_ari": round(ari(truth, given), 3),
                "given_s": round(t_given, 2),
            }  # fmt: skip
            for density, tag in (("binomial", "pc_bin"), ("beta-binomial", "pc_bb")):
                if args.no_pyclone:
                    pc, t_pc, note = None, float("nan"), "skipped"
                else:
                    pc, t_pc, note = run_pyclone_cached(name, vp.variants, args, density)
                row[f"{tag}_clones"] = np.nan if pc is None else int(pc.nunique())
                row[f"{tag}_ari"] = round(ari(truth, pc), 3)
                row[f"{tag}_s"] = round(t_pc, 1)
                if note:
                    row["note"] = note
            rows.append(row)
            print(" | ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    return pd.DataFrame(rows)


def math_check() -> pd.DataFrame | None:
    path = REFERENCE / "tcga_laml.maf.gz"
    if not path.exists():
        return None
    scores = genomic.maf_math(genomic.read_maf(path), vaf_column="i_TumorVAF_WU")
    scores = scores.set_index("sample_id")
    rows = [
        {"sample": s, "maftools": ref, "ithkit": round(float(scores.loc[s, "math"]), 4),
         "n_variants": int(scores.loc[s, "n_variants"])}
        for s, ref in MAFTOOLS_MATH.items()
    ]  # fmt: skip
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--regions", default="1,4,10")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--patients", type=int, default=1,
        help="virtual patients per size (seeds seed..seed+N-1); N > 1 adds a table of means",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=900.0, help="per PyClone-VI run (s)")
    parser.add_argument("--clusters", type=int, default=40, help="PyClone-VI -c")
    parser.add_argument("--restarts", type=int, default=10, help="PyClone-VI -r")
    parser.add_argument("--no-pyclone", action="store_true")
    parser.add_argument("--no-ithkit", action="store_true", help="only run (and cache) PyClone")
    parser.add_argument("--no-pairtree", action="store_true")
    parser.add_argument("--no-trees", action="store_true", help="skip ithkit's tree column")
    parser.add_argument("--pairtree-max", type=int, default=1000, help="most mutations")
    parser.add_argument("--cache", default=None, help="folder reusing PyClone-VI/Pairtree runs")
    parser.add_argument(
        "--dispersions", default="",
        help="read models of the dispersion axis, e.g. binomial,200,60,30 (alone: only that)",
    )  # fmt: skip
    parser.add_argument("--disp-size", type=int, default=2000)
    parser.add_argument("--disp-regions", type=int, default=5)
    parser.add_argument("--disp-depth", type=float, default=150.0)
    args = parser.parse_args()
    if args.dispersions:
        print(f"load: {os.getloadavg()[0]:.1f} (1-min average, {os.cpu_count()} cores)")
        table = dispersion_table(args)
        print()
        print(table.to_string(index=False))
        means = table.groupby("reads", sort=False)[
            [c for c in table.columns if c.endswith("_ari") or c.endswith("_s")]
        ].mean()
        print(f"\nMeans over {args.patients} virtual patient(s) per read model")
        print(means.round(3).to_string())
        return
    sizes = [int(x) for x in args.sizes.split(",") if x]
    regions = [int(x) for x in args.regions.split(",") if x]
    rows = []
    for name, variants, truth, clones in cases(sizes, regions, args.seed, args.patients):
        n_true = clones if isinstance(clones, int) else len(clones)
        clones = None if isinstance(clones, int) else clones
        ith_tree = np.nan
        if args.no_ithkit:
            labels, t_ith, k_ith = None, float("nan"), 0
        else:
            labels, t_ith, k_ith = run_ithkit(variants, args.seed)
            if clones is not None and not args.no_trees:
                tree_labels, parents, _ = ithkit_tree(variants[COLUMNS], args.seed)
                ith_tree = tree_right(truth, tree_labels, parents, true_parents(clones))[0]
        if args.no_pyclone:
            pc_labels, t_pc, note = None, float("nan"), "skipped"
        else:
            pc_labels, t_pc, note = run_pyclone_cached(name, variants, args)
        row = {
            "case": name,
            "true_clones": n_true,
            "ithkit_clones": k_ith,
            "ithkit_ari": round(ari(truth, labels), 3),
            "ithkit_s": round(t_ith, 2),
            "pyclone_clones": np.nan if pc_labels is None else int(pc_labels.nunique()),
            "pyclone_ari": round(ari(truth, pc_labels), 3),
            "pyclone_s": round(t_pc, 2),
            "speedup": round(t_pc / t_ith, 1) if t_ith > 0 else np.nan,
            "note": note,
            "ithkit_tree": ith_tree,
        }
        row |= pairtree_columns(name, variants, truth, clones, args)
        rows.append(row)
        print(" | ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    table = pd.DataFrame(rows)
    if not pairtree_available() and not args.no_pairtree:
        print(f"\nPairtree columns empty: no environment at {PAIRTREE_NOTE}.")
    print()
    print(table.to_string(index=False))
    if args.patients > 1:
        table["size"] = table["case"].str.replace(r" #\d+$", "", regex=True)
        cols = [c for c in ("ithkit_ari", "pyclone_ari", "pairtree_ari", "ithkit_s", "pyclone_s",
                            "ithkit_tree", "pairtree_tree") if c in table]  # fmt: skip
        means = table.groupby("size", sort=False)[cols].mean().round(3)
        print(f"\nMeans over {args.patients} virtual patients per size")
        print(means.to_string())
    math = math_check()
    if math is not None:
        print("\nMATH on TCGA-LAML (maftools math.score reference)")
        print(math.to_string(index=False))


if __name__ == "__main__":
    main()
