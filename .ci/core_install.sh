#!/usr/bin/env bash
# The slim core: `pip install .` with no extras, in a fresh venv, must run every path that needs
# no extra (issue 11). A missing extra is exit 3 with the pip line, never a traceback.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip install --quiet .
bin="$work/venv/bin"
for heavy in numba SimpleITK anndata matplotlib lifelines dask sklearn; do
  if "$bin/python" -c "import $heavy" 2>/dev/null; then
    echo "core install unexpectedly has $heavy" >&2; exit 1
  fi
done
cd "$work"
"$bin/ithkit" --help >/dev/null
"$bin/python" - <<'PY'
from ithkit.evolution import virtual_patient
virtual_patient(seed=3, n_regions=3, n_mutations=80).to_files("vp")
PY
"$bin/ithkit" genomic analyze vp/variants.tsv --out genomic_out --seed 0 >/dev/null
"$bin/ithkit" response recist vp/lesions.csv --out response_out >/dev/null
"$bin/ithkit" liquid track vp/ctdna.csv --out liquid_out --lesions vp/lesions.csv >/dev/null
cp -r "$OLDPWD/examples" examples
"$bin/ithkit" evolve simulate examples/scenarios/zhang2017_adaptive.yaml --out evo_out >/dev/null
"$bin/ithkit" run vp/patient.yaml --out run_out >/dev/null
test -s run_out/profile.tsv && test -s run_out/findings.tsv && test -s run_out/report.html
# a numba path: exit 3 and the pip line, not a traceback
set +e
"$bin/python" - <<'PY' 2>err.txt
import sys
from ithkit import OptionalDependencyError
from ithkit.evolution import simulate, load_scenario
sc = load_scenario("examples/scenarios/zhang2017_adaptive.yaml")
try:
    simulate(sc, engine="stochastic", seed=0)
except OptionalDependencyError as exc:
    print(exc, file=sys.stderr)
    sys.exit(3)
PY
code=$?
set -e
if [ "$code" != 3 ] || ! grep -q "pip install 'ithkit\[evolution\]'" err.txt; then
  echo "stochastic engine without numba: expected exit 3 with the pip line, got $code" >&2
  cat err.txt >&2; exit 1
fi
# VCF input needs pysam ([vcf]): exit 3 naming the extra
set +e
"$bin/ithkit" genomic convert --vcf examples/callers/calls.vcf.gz --normal P1-N \
  --cn ascat:examples/callers/ascat.segments.txt --purity examples/callers/ascat.purity.txt \
  --out vcf_out.tsv 2>err.txt
code=$?
set -e
if [ "$code" != 3 ] || ! grep -q "ithkit\[vcf\]" err.txt; then
  echo "genomic convert --vcf without pysam: expected exit 3 with the pip line, got $code" >&2
  cat err.txt >&2; exit 1
fi
echo "core install: ithkit --help, genomic analyze, response recist, liquid track, evolve, run: ok"
