#!/usr/bin/env bash
# Train several refinement variants side by side on one lent GPU machine, in one call:
#
#   here:    bash scripts/devkit.sh
#   device:  run(command="bash scripts/device_sweep.sh", carry=[".devkit"], timeout_s=600)
#
# Each line of VARIANTS is "TAG JSON-config [extra train options]"; every variant runs
# scripts/device_train.sh (same photos, MINUTES each, all at once: the small models leave the
# GPU mostly idle, so they share it) and its model.pt and log.csv come back as
# $OUT/TAG/model.pt and $OUT/TAG/log.csv (copied every 20 s while it runs); all the output goes to $OUT/train.out. Pick one with
# `python -m benchmarks.model` here, then scripts/ship_model.sh on its folder.
set -uo pipefail
cd "$(dirname "$0")/.."
OUTDIR=${OUT:-runs/device}
ARCH=${ARCH:-softcast_refine}
VARIANTS=${VARIANTS:-'s2w32d5 {"scale":2,"width":32,"depth":5}
s4w64d8 {"scale":4,"width":64,"depth":8}
s4w64d8fk {"scale":4,"width":64,"depth":8} --full-keep-prob 0.5'}
mkdir -p "$OUTDIR"
pids=()
while read -r tag cfg extra; do
    [ -n "$tag" ] || continue
    mkdir -p "$OUTDIR/$tag"
    # shellcheck disable=SC2086
    OUT="$OUTDIR/$tag" RUN="/tmp/semcom-sweep-$tag" INIT= \
        bash scripts/device_train.sh --arch "$ARCH" --config "$cfg" $extra \
        > "$OUTDIR/$tag.out" 2>&1 &
    pids+=("$!")
done <<< "$VARIANTS"
# copy what each run has so far every 20 s: a call cut off at its time limit still returns it
( while sleep 20; do
    for d in /tmp/semcom-sweep-*; do
        t=${d#/tmp/semcom-sweep-}
        cp "$d/model.pt" "$d/log.csv" "$OUTDIR/$t/" 2>/dev/null
    done
  done ) &
copier=$!
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
kill "$copier" 2>/dev/null
for f in "$OUTDIR"/*.out; do echo "=== $f"; cat "$f"; rm -f "$f"; done > "$OUTDIR/train.out.tmp"
rm -f "$OUTDIR"/*/train.out
mv "$OUTDIR/train.out.tmp" "$OUTDIR/train.out"
tail -n 40 "$OUTDIR/train.out"
exit "$rc"
