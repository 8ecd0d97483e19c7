#!/usr/bin/env bash
# One-time, idempotent set-up: Debian packages, the venv and the pinned Python packages.
# Run again, it checks and skips what is already done (a stamp holds the hash of the inputs).
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PKGS=(gnuradio python3-uhd python3-libiio plasma-workspace-wallpapers mate-backgrounds
          lomiri-wallpapers-16.04 lomiri-wallpapers-20.04)
VENV=${SEMCOM_VENV:-.venv}
PYADI_VERSION=0.0.21
t0=$(date +%s)

missing=()
for p in "${DEB_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "setup: Debian packages present (${DEB_PKGS[*]})"
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV from /usr/bin/python3 with --system-site-packages"
    /usr/bin/python3 -m venv --system-site-packages "$VENV"
fi

stamp="$VENV/.semcom-setup-stamp"
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "setup: Python packages up to date (stamp $stamp)"
else
    echo "setup: installing Python packages into $VENV"
    extra=()
    # The CPU build of torch lies on local disk on these machines; a bare torch from PyPI is CUDA.
    [ -d /opt/wheels ] && extra+=(--find-links /opt/wheels)
    # compat mode: a .pth to the repository, so packages added later are importable too
    "$VENV/bin/pip" install -q "${extra[@]}" -e '.[dev]' --config-settings editable_mode=compat
    # No deps: pyadi-iio's pylibiio 1.x would shadow Debian's libiio 0.24 binding.
    "$VENV/bin/pip" install -q --no-deps "pyadi-iio==$PYADI_VERSION"
    "$VENV/bin/python" - <<'PY'
import iio, numpy, torch  # noqa: F401
from gnuradio import gr
assert numpy.__version__.startswith("1."), f"numpy {numpy.__version__}: GNU Radio needs numpy<2"
print(f"setup: GNU Radio {gr.version()}, torch {torch.__version__}, numpy {numpy.__version__}")
PY
    echo "$want" > "$stamp"
fi
echo "setup: done in $(( $(date +%s) - t0 )) s"
