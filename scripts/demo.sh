#!/usr/bin/env bash
# The embedded demo on a fresh Debian 12 machine: installs what kprune needs, builds it, writes
# the synthetic sentiment task, trains a small teacher on it from random init, evaluates and
# inspects it. Everything lands under out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)" --target kprune
kprune=build/experiments/kprune
out=out/demo
mkdir -p "$out"
"$kprune" make-synthetic --out "$out/data" --seed 0 --train 8000 --dev 1000
"$kprune" finetune --task synthetic --data-dir "$out/data" --vocab "$out/data/vocab.txt" \
  --layers 2 --hidden 64 --heads 2 --ffn 256 --max-position 64 \
  --steps 3000 --batch-size 32 --lr 1e-3 --eval-every 500 --seed 0 --out "$out/teacher"
"$kprune" inspect --checkpoint "$out/teacher" --seq-len 16
"$kprune" eval --checkpoint "$out/teacher" --task synthetic --data-dir "$out/data" \
  --predictions-out "$out/teacher/dev-predictions.jsonl"
echo "demo: teacher, training record and dev predictions are in $out/teacher"
