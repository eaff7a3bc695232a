#!/usr/bin/env bash
# Builds the teacher zoo into a cache folder: per architecture one encoder pretrained with
# masked language modelling (kprune pretrain) on WikiText-2 valid/test + GLUE train sentences,
# then teachers fine-tuned from it, and with --twins the same teachers from random init (to
# measure what pretraining buys). Resumable: finished steps are skipped, an interrupted
# pretraining resumes from its last saved state; rerun the same command. The architectures
# are built side by side, each on its share of the cores (one core each on two), since two
# single-threaded runs train faster than one run on two threads.
#
#   scripts/build-zoo.sh --fast --out DIR [--twins]   # 2 layers, hidden 128: minutes, for tests
#   scripts/build-zoo.sh --full --out DIR [--twins]   # mini-bert + mini-distilbert (4L/256/4/1024)
#
# Options: --kprune BIN (default build/experiments/kprune), --shared DIR (default ../shared),
# --threads N (cores in all; default: every core), --stop-after-pretrain N (build a long
# pretraining in parts), --tasks "sst2 ..." (fine-tune only these; the corpus still holds every
# task's training sentences), --archs "mini-bert" (build only these architectures of the mode), --precision fp32|bf16 (the full zoo's pretraining; default bf16
# where the CPU has bf16 instructions, avx512_bf16 or amx_bf16, else fp32; the fast zoo and
# all fine-tuning stay fp32). Each architecture logs to DIR/<arch>.log.
# Layout: DIR/data (task data; QQP split by kprune split-dev), DIR/corpus.txt + corpus.json,
# DIR/<arch>/pretrained, DIR/<arch>/<task>, DIR/<arch>-random/<task>, DIR/zoo.md (the table).
set -euo pipefail
cd "$(dirname "$0")/.."

mode="" out="" twins=0 kprune=build/experiments/kprune shared=../shared threads=0 stop_after=0
only_tasks="" only_archs="" precision=""

while [[ $# -gt 0 ]]; do
  case "$1" in
    --fast | --full) mode="${1#--}" ;;
    --out) out="$2"; shift ;;
    --twins) twins=1 ;;
    --kprune) kprune="$2"; shift ;;
    --shared) shared="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --stop-after-pretrain) stop_after="$2"; shift ;;
    --tasks) only_tasks="$2"; shift ;;
    --archs) only_archs="$2"; shift ;;
    --precision) precision="$2"; shift ;;
    *) echo "build-zoo: unknown argument '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
  shift
done
[[ -n "$mode" && -n "$out" ]] || { echo "usage: $0 --fast|--full --out DIR [--twins]" >&2; exit 2; }
[[ -x "$kprune" ]] || { echo "build-zoo: $kprune not found; build the kprune target" >&2; exit 1; }
glue="$shared/data/glue"
[[ -f "$glue/SST-2/train.tsv" ]] || { echo "build-zoo: no GLUE data under $glue" >&2; exit 1; }

# Recipes. Sequence lengths: algorithms.md 8.1 (SST-2 64, the others 128).
if [[ "$mode" == fast ]]; then
  archs=(fast-bert)
  tasks=(sst2 mrpc stsb)
  shape=(--layers 2 --hidden 128 --heads 2 --ffn 512)
  pretrain_args=(--seq-len 128 --batch-size 16 --steps 200 --lr 1e-3 --save-every 100)
  declare -A steps=([sst2]=300 [mrpc]=200 [stsb]=200)
  declare -A eval_every=([sst2]=100 [mrpc]=100 [stsb]=100)
  declare -A finetune_lr=([sst2]=5e-4 [mrpc]=5e-4 [stsb]=5e-4)
else
  archs=(mini-bert mini-distilbert)
  tasks=(sst2 mrpc stsb qqp)
  shape=(--layers 4 --hidden 256 --heads 4 --ffn 1024)
  # Word embeddings from the corpus's PPMI-SVD (seconds), then 5000 MLM steps of 32 x 64
  # tokens (10.2M tokens, 5 passes): about 42 min per encoder on one core in bf16 mixed
  # precision (66 min in fp32). Rows of 64 train more steps per token than rows of 128 (GLUE
  # sentences are short); positions >= 64 keep their random init. A second phase on rows of
  # 128 (pretrain --init-checkpoint) made the MRPC and STS-B teachers worse (docs/zoo.md).
  if [[ -z "$precision" ]]; then
    precision=fp32
    grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo 2>/dev/null && precision=bf16
  fi
  pretrain_args=(--seq-len 64 --batch-size 32 --steps 5000 --lr 1e-3 --embedding-init ppmi-svd
    --save-every 100 --precision "$precision")
  declare -A steps=([sst2]=2500 [mrpc]=350 [stsb]=540 [qqp]=1000)
  # MRPC at half the rate: at 2e-4 the pretrained teachers peaked by step 100-200 and then
  # degraded (3.7k pairs, 3 passes).
  declare -A eval_every=([sst2]=250 [mrpc]=50 [stsb]=100 [qqp]=100)
  declare -A finetune_lr=([sst2]=2e-4 [mrpc]=1e-4 [stsb]=2e-4 [qqp]=2e-4)
fi
if [[ -n "$only_tasks" ]]; then
  for task in $only_tasks; do
    [[ -v "steps[$task]" ]] || { echo "build-zoo: --tasks: '$task' is not in the $mode zoo (${tasks[*]})" >&2; exit 2; }
  done
  read -r -a tasks <<< "$only_tasks"
fi
if [[ -n "$only_archs" ]]; then
  for arch in $only_archs; do
    [[ " ${archs[*]} " == *" $arch "* ]] || { echo "build-zoo: --archs: '$arch' is not in the $mode zoo (${archs[*]})" >&2; exit 2; }
  done
  read -r -a archs <<< "$only_archs"
fi
model_type() { [[ "$1" == *distilbert ]] && echo distilbert || echo bert; }
run() { echo "+ $*" >&2; "$@"; }
start=$(date +%s)
mkdir -p "$out/data"

# Task data: the shared GLUE folders, and QQP split 90/10 by row id (no QQP dev set exists).
for dir in SST-2 MRPC STS-B; do
  [[ -e "$out/data/$dir" ]] || ln -s "$(realpath "$glue/$dir")" "$out/data/$dir"
done
if [[ ! -f "$out/data/QQP/dev.tsv" ]]; then
  run "$kprune" split-dev --input "$glue/QQP/train-subset-23497.tsv" --out-dir "$out/data/QQP" \
    > "$out/data/qqp-split.json"
fi

if [[ ! -f "$out/corpus.json" ]]; then
  run "$kprune" pretrain-corpus --out "$out/corpus.txt" --data-dir "$out/data" \
    --wikitext "$shared/data/corpus/wikitext-2/wiki.valid.tokens" \
    "$shared/data/corpus/wikitext-2/wiki.test.tokens" \
    --task sst2 mrpc stsb qqp --vocab "$shared/data/vocab/bert-base-uncased-vocab.txt" \
    > "$out/corpus.json"
fi

finetune() {  # finetune TASK OUT [init args...]
  local task="$1" dest="$2"; shift 2
  [[ -f "$dest/training.json" ]] && return 0
  run "$kprune" finetune --task "$task" --data-dir "$out/data" --out "$dest" \
    --steps "${steps[$task]}" --lr "${finetune_lr[$task]}" --eval-every "${eval_every[$task]}" \
    --threads "$arch_threads" "$@"
}

build_arch() {  # the encoder, its teachers, then (--twins) their random-init twins
  local arch="$1" pre="$out/$1/pretrained" task
  if ! grep -qs '"finished": true' "$pre/pretraining.json"; then
    run "$kprune" pretrain --corpus "$out/corpus.txt" --out "$pre" --model-type "$(model_type "$arch")" \
      "${shape[@]}" "${pretrain_args[@]}" --threads "$arch_threads" --stop-after "$stop_after" \
      --vocab "$shared/data/vocab/bert-base-uncased-vocab.txt"
    grep -qs '"finished": true' "$pre/pretraining.json" || {
      echo "build-zoo: pretraining of $arch stopped early; rerun to resume" >&2; return 0; }
  fi
  for task in "${tasks[@]}"; do
    finetune "$task" "$out/$arch/$task" --init-checkpoint "$pre"
    cp "$pre/pretraining.json" "$out/$arch/$task/pretraining.json"
  done
  echo "build-zoo: $arch teachers ready after $(($(date +%s) - start)) s" >&2
  [[ "$twins" == 1 ]] || return 0
  for task in "${tasks[@]}"; do
    finetune "$task" "$out/$arch-random/$task" --model-type "$(model_type "$arch")" "${shape[@]}" \
      --vocab "$shared/data/vocab/bert-base-uncased-vocab.txt"
  done
}

cores="$threads"
[[ "$cores" -gt 0 ]] || cores=$(nproc)
arch_threads=$((cores / ${#archs[@]}))
[[ "$arch_threads" -gt 0 ]] || arch_threads=1
pids=()
for arch in "${archs[@]}"; do
  if [[ ${#archs[@]} -eq 1 ]]; then
    build_arch "$arch"
  else
    echo "build-zoo: building $arch on $arch_threads thread(s), log: $out/$arch.log" >&2
    build_arch "$arch" > "$out/$arch.log" 2>&1 &
    pids+=($!)
  fi
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
[[ "$failed" == 0 ]] || { echo "build-zoo: an architecture failed; see $out/*.log" >&2; exit 1; }

# The table: teacher x dev metrics x fine-tuning time (pretraining time listed per arch).
python3 - "$out" > "$out/zoo.md" <<'PY'
import json, pathlib, sys
root = pathlib.Path(sys.argv[1])
print("| teacher | init | best dev | fine-tune s | pretrain s |")
print("|---|---|---|---|---|")
for record in sorted(root.glob("*/*/training.json")):
    t = json.loads(record.read_text())
    pre = record.parent / "pretraining.json"
    pre_s = f"{json.loads(pre.read_text())['wall_time_s']:.0f}" if pre.exists() else "-"
    dev = ", ".join(f"{k} {v:.2f}" for k, v in sorted(t["best"]["metrics"].items()))
    init = "random" if t["init"] == "random" else "pretrained"
    print(f"| {record.parent.parent.name}/{record.parent.name} | {init} | {dev} | {t['wall_time_s']:.0f} | {pre_s} |")
PY
cat "$out/zoo.md"
echo "build-zoo: $mode zoo in $out, $(($(date +%s) - start)) s" >&2
