#!/usr/bin/env bash
# Issue 10's benchmark in one command (docs/benchmarks.md): kubectl-initctl vs `kubectl get pods -A`
# (server-side Table) vs a bare curl of the same pages, at 1k/10k/50k pods. Not run in CI.
#
#   bash benches/scale.sh                       # release build (fat LTO: minutes), all three scales
#   SCALES=1000,10000 RUNS=3 bash benches/scale.sh
#   PROFILE=dev SCALES=1000 RUNS=2 bash benches/scale.sh    # a quick functional check only
#   INITCTL_BIN=/path/to/kubectl-initctl bash benches/scale.sh   # measure another build
#   SCALE_ENCODE_MBPS=200 bash benches/scale.sh # model kube-apiserver's encode time per page
#   SKIP=yaml,explain bash benches/scale.sh     # leave out commands whose label has these words
#   SCALE_HOLD=1 SCALES=10000 bash benches/scale.sh  # keep the server up for profiling by hand
#
# The markdown table goes to stdout (progress to stderr): `bash benches/scale.sh | tee results.md`.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in kubectl curl hyperfine /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "benches/scale.sh: $tool is missing (hyperfine: apt-get install -y hyperfine)" >&2; exit 1; }
done
exec cargo bench --quiet --profile "${PROFILE:-bench}" --bench scale
