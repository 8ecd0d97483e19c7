#!/usr/bin/env bash
# Copy the built-in wallpaper photos (train and held-out, about 36 MiB) into .devkit/, which
# git ignores, so that a lent GPU machine, which has no Debian packages and no network, trains
# on the same photos: `device` run with carry [".devkit"] and scripts/device_train.sh. The
# plasma ones go to .devkit/wallpapers/<Name>/..., the other packages' photos (EXTRA_PHOTOS) to
# .devkit/wallpapers/backgrounds/<path>, where SEMCOM_WALLPAPERS=.devkit/wallpapers finds both.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
rm -rf .devkit/wallpapers
"$PY" - <<'PYEOF'
import shutil
from pathlib import Path

from models.data import (BACKGROUNDS_DIR, EXTRA_PHOTOS, WALLPAPER_DIR, WALLPAPER_PHOTOS,
                         _wallpaper_file)

dest = Path(".devkit/wallpapers")
total, missing = 0, []
for name in WALLPAPER_PHOTOS:
    f = _wallpaper_file(name)
    if f is None:
        missing.append(name)
        continue
    d = dest / name / "contents" / "images"
    d.mkdir(parents=True, exist_ok=True)
    shutil.copy2(f, d / f.name)
    total += f.stat().st_size
if missing:
    raise SystemExit(f"devkit: wallpapers missing under {WALLPAPER_DIR}: {', '.join(missing)} "
                     "(make setup installs plasma-workspace-wallpapers)")
print(f"devkit: {len(WALLPAPER_PHOTOS)} photos, {total / 2**20:.1f} MiB in {dest}")

extra, missing = 0, sorted({pkg for pkg, rel, _ in EXTRA_PHOTOS
                            if not (BACKGROUNDS_DIR / rel).is_file()})
if missing:
    raise SystemExit(f"devkit: photos missing under {BACKGROUNDS_DIR} (make setup installs "
                     f"{', '.join(missing)})")
for _pkg, rel, _name in EXTRA_PHOTOS:
    d = dest / "backgrounds" / rel
    d.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(BACKGROUNDS_DIR / rel, d)
    extra += d.stat().st_size
print(f"devkit: {len(EXTRA_PHOTOS)} more photos, {extra / 2**20:.1f} MiB in {dest / 'backgrounds'}")
PYEOF
