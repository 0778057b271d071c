#!/usr/bin/env bash
# Quick start: install if needed, write the synthetic LEVIR-layout dataset,
# train the CPU change-detection demo, evaluate it on the test split and
# print the change F1.
#   bash tools/demo_changedet.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
if ! "$PY" -c 'import mmcv.ops, mmseg, seg_plugins' 2>/dev/null; then
  bash tools/install.sh
fi
WORK=${WORK_DIR:-work_dirs/changedet_demo}
DATA=data/synthetic_cd
[ -d "$DATA/train" ] || "$PY" tools/dataset_converters/make_synthetic_cd.py --out "$DATA"
"$PY" tools/train.py configs/changedet_demo.py --work-dir "$WORK"
CKPT=$(ls -t "$WORK"/best_F1_iter_*.pth | head -n 1)
"$PY" tools/test.py configs/changedet_demo.py "$CKPT" --work-dir "$WORK/test" \
  | tee "$WORK/test.log"
F1=$(grep -o 'metrics: .*' "$WORK/test.log" | grep -o ' F1=[0-9.]*' | cut -d= -f2)
echo "change F1 on the synthetic test split: $F1 (checkpoint $CKPT)"
