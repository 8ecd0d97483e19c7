#!/usr/bin/env bash
# Train a learned model (the afjscc baseline by default) on a lent GPU machine in one call:
#
#   here:    bash scripts/devkit.sh
#   device:  run(command="bash scripts/device_train.sh", carry=[".devkit"], timeout_s=600)
#   here:    python -m models.checkpoint ... / scripts/ship_model.sh <files_at>/model.pt
#
# That machine is bare (no network, no Debian packages) but its python3 has torch, numpy,
# scikit-image, scikit-learn, Pillow and tqdm, which is all `semcom.cli.train` needs. The run
# trains for MINUTES of training time (default 8; the LR and crop schedules span them), from
# INIT (default: the afjscc checkpoint; empty: from scratch), then writes model.pt, log.csv
# and train.out to $OUT (the tool fetches them back; train_state.pt is too large to return).
# Extra arguments go to `semcom.cli.train`. Without a GPU it runs on the CPU (for trying it here).
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${MINUTES:-8}
INIT=${INIT-models/checkpoints/afjscc-default.pt}
OUTDIR=${OUT:-runs/device}
RUN=${RUN:-/tmp/semcom-device-run}
PY=${PY:-python3}
mkdir -p "$OUTDIR"
export SEMCOM_WALLPAPERS="$PWD/.devkit/wallpapers" PYTHONUNBUFFERED=1
if [ ! -d "$SEMCOM_WALLPAPERS" ]; then
    echo "device_train: no .devkit/wallpapers: run scripts/devkit.sh and carry .devkit" >&2
    exit 2
fi
nvidia-smi -L 2>/dev/null || echo "device_train: no GPU seen, training on $(nproc) CPU cores"
"$PY" -c 'import numpy, sklearn, skimage, torch; print("torch", torch.__version__, "cuda",
torch.cuda.is_available(), "numpy", numpy.__version__)'
if [ -n "$INIT" ]; then
    set -- --init "$INIT" --lr "${LR:-3e-4}" "$@"
else
    set -- --lr "${LR:-1e-3}" "$@"
fi
set +e
"$PY" -m semcom.cli.train --out "$RUN" --steps 0 --time-budget-min "$MINUTES" \
    --batch "${BATCH:-64}" --crop "${CROP:-128}" --crop-late "${CROP_LATE:-192}" \
    --crop-switch 0.5 --val-every "${VAL_EVERY:-2000}" --log-every 200 --ckpt-every 2000 \
    --quiet "$@" 2>&1 | tee "$OUTDIR/train.out"
rc=${PIPESTATUS[0]}
set -e
cp "$RUN/model.pt" "$RUN/log.csv" "$OUTDIR/" 2>/dev/null || true
tail -5 "$RUN/log.csv" 2>/dev/null || true
exit "$rc"
