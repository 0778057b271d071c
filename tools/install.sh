#!/usr/bin/env bash
# One install step for seg_plugins: a virtual environment with torch, mmcv 2.1.0
# *with ops* built against that torch (cached outside the repository), the
# OpenMMLab stack and this package in editable mode.
#
#   bash tools/install.sh            # creates ./.venv
#
# Environment:
#   SEG_PLUGINS_VENV   where the environment lives      (default: <repo>/.venv)
#   SEG_PLUGINS_CACHE  where built mmcv wheels are kept (default: ~/.cache/seg_plugins)
#   PYTHON             interpreter used to create the environment (default: python3)
#   MAX_JOBS           parallel compile jobs for mmcv   (default: nproc)
#
# Idempotent: with a warm wheel cache a second run only checks what is installed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${SEG_PLUGINS_VENV:-$ROOT/.venv}
CACHE=${SEG_PLUGINS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/seg_plugins}
REQ=$ROOT/requirements.txt

log() { printf '[install] %s\n' "$*"; }
# The requirement line for one package, exactly as pinned in requirements.txt.
pin() {
  local line
  line=$(grep -E "^$1([=<>!~ ]|$)" "$REQ" | head -n 1)
  [ -n "$line" ] || { echo "install.sh: $1 is not pinned in $REQ" >&2; exit 1; }
  printf '%s' "$line"
}

if [ ! -x "$VENV/bin/python" ]; then
  log "creating the environment in $VENV"
  "${PYTHON:-python3}" -m venv "$VENV"
fi
PY=$VENV/bin/python
pipi() { "$PY" -m pip install --disable-pip-version-check -q "$@"; }

log "torch and build tools"
pipi "$(pin torch)" "$(pin torchvision)" "$(pin setuptools)" "$(pin numpy)" wheel ninja packaging

MMCV_PIN=$(pin mmcv)
MMCV_VERSION=${MMCV_PIN#mmcv==}

# Build CUDA ops only where a GPU and nvcc are both present; else CPU ops.
read -r KEY WITH_CUDA NEED_CXX20 < <("$PY" - <<'EOF'
import sys
import torch
from packaging.version import Version
from torch.utils.cpp_extension import CUDA_HOME

py = f'py{sys.version_info.major}{sys.version_info.minor}'
tv = Version(torch.__version__).base_version
cuda = torch.cuda.is_available() and CUDA_HOME is not None
if torch.cuda.is_available() and CUDA_HOME is None:
    # mmdet's Mask R-CNN runs mmcv's RoIAlign and NMS on the GPU: with CPU
    # ops only it fails there ("not compiled with GPU support").
    print('[install] WARNING: a GPU is visible but no CUDA toolkit (nvcc, '
          'CUDA_HOME) was found: mmcv gets CPU ops only, and models that '
          'use mmcv ops on the GPU (Mask R-CNN) will fail. Install the CUDA '
          f'{torch.version.cuda} toolkit, set CUDA_HOME and rerun.',
          file=sys.stderr)
if cuda:
    major, minor = torch.cuda.get_device_capability(0)
    dev = f'cu{torch.version.cuda.replace(".", "")}-sm{major}{minor}'
else:
    dev = 'cpu'
# torch >= 2.10 headers use C++20; mmcv 2.1.0's setup.py hard-codes -std=c++17.
cxx20 = Version(tv) >= Version('2.10')
print(f'{py}-torch{tv}-{dev}', int(cuda), int(cxx20))
EOF
)
WHEELS=$CACHE/wheels/mmcv-$MMCV_VERSION-$KEY
WHEEL=$(ls "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)

if [ -z "$WHEEL" ]; then
  log "no cached mmcv wheel for $KEY: building mmcv $MMCV_VERSION with ops (5-20 min on 2 cores, once per machine)"
  SRC=$(mktemp -d)
  trap 'rm -rf "$SRC"' EXIT
  # --no-build-isolation: mmcv's setup.py imports the torch installed above.
  "$PY" -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: \
    --no-build-isolation -d "$SRC" "$MMCV_PIN"
  tar -xzf "$SRC"/mmcv-"$MMCV_VERSION".tar.gz -C "$SRC"
  if [ "$NEED_CXX20" = 1 ]; then
    sed -i -E 's/-std=c\+\+1[47]/-std=c++20/g' "$SRC/mmcv-$MMCV_VERSION/setup.py"
    grep -q 'c++20' "$SRC/mmcv-$MMCV_VERSION/setup.py" || {
      echo "install.sh: could not raise the C++ standard in mmcv's setup.py" >&2; exit 1; }
  fi
  mkdir -p "$CACHE/wheels"
  TMP_WHEELS=$(mktemp -d "$CACHE/wheels/.build-XXXXXX")
  if [ "$WITH_CUDA" = 1 ]; then
    export FORCE_CUDA=1
  else
    # A CUDA build of torch on a machine without a GPU: keep mmcv on CPU ops.
    export FORCE_CUDA=0 CUDA_VISIBLE_DEVICES=
  fi
  # Python's own CFLAGS carry -g: debug info for every op, compiled against
  # torch's template-heavy headers, costs build time and wheel size and no user
  # reads it. -g0 comes after -g on the compiler line, so it wins.
  CFLAGS="${CFLAGS:-} -g0" CXXFLAGS="${CXXFLAGS:-} -g0" \
  MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} "$PY" -m pip wheel \
    --disable-pip-version-check -q --no-deps --no-build-isolation \
    -w "$TMP_WHEELS" "$SRC/mmcv-$MMCV_VERSION"
  # Publish atomically so an interrupted build never looks like a cached one.
  rm -rf "$WHEELS" && mv "$TMP_WHEELS" "$WHEELS"
  WHEEL=$(ls "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl | head -n 1)
  log "cached $WHEEL"
else
  log "using cached $WHEEL"
fi
pipi "$WHEEL"
# upstream/run.py checks its mmcv setup.py patch against this sdist, offline.
SDISTS=$CACHE/sdists
if [ ! -f "$SDISTS/mmcv-$MMCV_VERSION.tar.gz" ]; then
  mkdir -p "$SDISTS"
  "$PY" -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: \
    --no-build-isolation -d "$SDISTS" "$MMCV_PIN" \
    || log "could not keep the mmcv sdist: upstream/run.py --offline skips mmcv"
fi

log "OpenMMLab stack, seg_plugins (editable) and test tools"
pipi --no-build-isolation -e "$ROOT[tests]"

"$PY" - <<'EOF'
import mmcv.ops  # noqa: F401  (fails if mmcv was built without ops)
import mmdet
import mmseg
import torch

import seg_plugins

print(f'[install] ok: torch {torch.__version__}, mmcv {mmcv.__version__}, '
      f'mmseg {mmseg.__version__}, mmdet {mmdet.__version__}, '
      f'seg_plugins {seg_plugins.__version__}')
EOF
log "activate with: source $VENV/bin/activate"
