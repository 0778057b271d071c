#!/usr/bin/env bash
# Quick start: install if needed, write the synthetic LEVIR-layout dataset,
# train the CPU change-detection demo, evaluate it on the test split and
# print the change F1; then write a synthetic georeferenced scene pair and
# run scene inference on it (change COG, polygons, quicklook, F1 against
# the scene's label).
#   bash tools/demo_changedet.sh
#   SCENE_SIZE=8192 bash tools/demo_changedet.sh   # a bigger scene
#   SCENE_SEED=0 bash tools/demo_changedet.sh     # another scene draw
#   SKIP_SCENE=1 bash tools/demo_changedet.sh      # chips only
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

[ -n "${SKIP_SCENE:-}" ] && exit 0

# Scene part: a synthetic georeferenced scene pair (UTM 33N, 0.5 m pixels,
# irregular nodata footprints) drawn with the process of the training chips,
# inferred tile by tile into a change COG, polygons of the changes and a
# quicklook, and scored against the scene's own label. Each chip has its
# own illumination of B, a scene one for all of it: random seed 1 draws a
# typical one (scene F1 near the chips'); seed 0 draws an extreme one (a
# strong red gain and green/blue offsets) that scores lower.
SCENE_SEED=${SCENE_SEED:-1}
SCENE=${SCENE_DIR:-data/synthetic_scene_${SCENE_SIZE:-3072}_seed$SCENE_SEED}
OUT="$WORK/scene"
if ! "$PY" tools/infer.py --help 2>/dev/null | grep -q -- '--quicklook'; then
  echo "scene part skipped: this checkout's tools/infer.py has no scene" \
    "inference (--quicklook, --polygons, --label)"
  exit 0
fi
[ -f "$SCENE/scene_label.tif" ] || "$PY" \
  tools/dataset_converters/make_synthetic_scene.py --out "$SCENE" \
  --size "${SCENE_SIZE:-3072}" --seed "$SCENE_SEED"
mkdir -p "$OUT"
"$PY" tools/infer.py "$SCENE/scene_A.tif" "$SCENE/scene_B.tif" \
  --config configs/changedet_demo.py --checkpoint "$CKPT" \
  --out "$OUT/change.tif" --prob "$OUT/prob.tif" \
  --polygons "$OUT/changes.gpkg" --quicklook "$OUT/quicklook.png" \
  --label "$SCENE/scene_label.tif" --overwrite | tee "$WORK/scene.log"
PCT=$(grep -o 'changed ([0-9.]*%)' "$WORK/scene.log" | head -n 1 \
  | grep -o '[0-9.]*%' || true)
AREA=$(grep -o '[0-9.]* m^2' "$WORK/scene.log" | head -n 1 || true)
SCENE_F1=$(grep -o 'F1 [0-9.]*' "$WORK/scene.log" | head -n 1 \
  | cut -d' ' -f2 || true)
echo
echo "change F1 on the synthetic test split: $F1"
echo "scene $SCENE/scene_A.tif + scene_B.tif:"
echo "  change map (COG):  $OUT/change.tif (probability: $OUT/prob.tif)"
echo "  polygons:          $OUT/changes.gpkg"
echo "  quicklook:         $OUT/quicklook.png"
echo "  changed area:      $AREA ($PCT of the valid pixels)"
echo "  F1 against the scene's label: $SCENE_F1"
