#!/usr/bin/env bash
# Integration test of the pruners on a real teacher: builds the fast zoo's SST-2 teacher
# (scripts/build-zoo.sh --fast: an MLM-pretrained 2-layer encoder fine-tuned on real SST-2),
# prunes it with K-prune, Kwon et al. and the magnitude baseline at 40 % and 70 % FLOPs removed
# (kprune prune: physically pruned checkpoint, dev evaluation of teacher and student), and checks
#   - the teacher is far above SST-2's majority class (50.9 % of dev);
#   - every job meets its FLOPs budget;
#   - at 40 % K-prune and Kwon stay within 1.5 points of the teacher;
#   - at 70 % K-prune and Kwon beat magnitude pruning by at least 10 points.
#   tests/fast_zoo_pruners.sh KPRUNE REPO
set -euo pipefail
[ $# -eq 2 ] || {
  echo "usage: $0 KPRUNE REPO" >&2
  exit 2
}
kprune=$1
repo=$2
shared=${KPRUNE_SHARED_DIR:-$repo/../shared}
[ -f "$shared/data/glue/SST-2/dev.tsv" ] || {
  echo "FAIL: no SST-2 under $shared/data/glue: the tests need the shared data folder" >&2
  exit 1
}
work=$(mktemp -d /tmp/kprune-fast-zoo-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

start=$(date +%s)
bash "$repo/scripts/build-zoo.sh" --fast --tasks sst2 --out "$work/zoo" --kprune "$kprune" \
  --shared "$shared"
echo "fast zoo (SST-2 teacher) built in $(($(date +%s) - start)) s"

for pruner in kprune kwon magnitude; do
  for reduction in 0.4 0.7; do
    "$kprune" prune --checkpoint "$work/zoo/fast-bert/sst2" --task sst2 --data-dir "$work/zoo/data" \
      --pruner "$pruner" --flops-reduction "$reduction" --out "$work/pruned/$pruner-$reduction" \
      > /dev/null
  done
done

python3 - "$work/pruned" <<'PY'
import json, pathlib, sys
root = pathlib.Path(sys.argv[1])
acc, failures = {}, []
for report in sorted(root.glob("*/report.json")):
    r = json.loads(report.read_text())
    pruner, reduction = report.parent.name.rsplit("-", 1)
    acc[pruner, reduction] = r["pruned_eval"]["metrics"]["accuracy"]
    teacher = r["teacher_eval"]["metrics"]["accuracy"]
    flops = r["flops"]
    print(f"{pruner:9} {reduction}: accuracy {acc[pruner, reduction]:.2f} (teacher {teacher:.2f}), "
          f"GFLOPs {flops['after']:.5f} / budget {flops['budget']:.5f}")
    if flops["after"] > flops["budget"] * (1 + 1e-9):
        failures.append(f"{pruner} at {reduction} exceeds its FLOPs budget")
if len(acc) != 6:
    failures.append(f"expected 6 reports, found {len(acc)}")
if teacher < 70:
    failures.append(f"teacher accuracy {teacher:.2f} < 70 (majority class: 50.92)")
for pruner in ("kprune", "kwon"):
    if acc.get((pruner, "0.4"), 0) < teacher - 1.5:
        failures.append(f"{pruner} at 40 %: {acc.get((pruner, '0.4'))} < teacher - 1.5")
    if acc.get((pruner, "0.7"), 0) < acc.get(("magnitude", "0.7"), 100) + 10:
        failures.append(f"{pruner} at 70 % does not beat magnitude by 10 points")
for failure in failures:
    print("FAIL:", failure)
sys.exit(1 if failures else 0)
PY
