#!/usr/bin/env bash
# Make a newly trained checkpoint the shipped default and regenerate what is tied to its hash:
#
#   bash scripts/ship_model.sh RUN_DIR      (RUN_DIR holds the run's model.pt and log.csv,
#                                            e.g. the files a device_train.sh call fetched)
#
# copies the checkpoint (any registered architecture) to models/checkpoints/default.pt,
# replaces the rate-quality
# table (semcom calibrate policy, real PHY and emulator), rewrites the golden value and the
# model benchmark, continues the model card's training history with the run, and reruns the
# adaptive benchmark. Then: make test, look at the numbers, commit.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:?usage: scripts/ship_model.sh RUN_DIR}
PY=${PY:-.venv/bin/python}
hash_of() { "$PY" -c 'import sys; from models.checkpoint import peek; print(peek(sys.argv[1])["model_hash"])' "$1"; }
old=$(hash_of default)
new=$(hash_of "$RUN/model.pt")
if [ "$old" = "$new" ]; then
    echo "ship_model: $RUN/model.pt is already the default ($new)"
    exit 0
fi
"$PY" -c 'import sys; from models.checkpoint import load_checkpoint; load_checkpoint(sys.argv[1])' "$RUN/model.pt"
cp "$RUN/model.pt" models/checkpoints/default.pt
rm -f "calibration/tables/$old.json"
mkdir -p runs
"$PY" -m semcom calibrate policy --model default
"$PY" -m benchmarks.model --golden models/checkpoints/golden.json 2>&1 | tee runs/bench_model.txt
"$PY" -m benchmarks.model_card --prior-log models/checkpoints/training_log.csv --run "$RUN" \
    --bench-log runs/bench_model.txt --eval default,afjscc,softcast
"$PY" -m benchmarks.adaptive --png runs/adaptive.png 2>&1 \
    | grep -v "set_min_output_buffer\|dropping frames" | tee runs/bench_adaptive.txt
echo "ship_model: the default is now $new (was $old); run make test, then commit"
