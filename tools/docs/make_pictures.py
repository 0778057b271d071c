r"""Pictures of the documentation (docs/en/_static/) from the demo's outputs.

After ``bash tools/demo_changedet.sh`` (chips and scene):

    python tools/docs/make_pictures.py --work-dir work_dirs/changedet_demo

writes ``change_panels.png`` (A | B | ground truth | prediction of the first
test pairs, drawn by ``tools/test.py --show-dir``) and
``demo_quicklook.png`` (the scene's quicklook). The throughput plot comes
from the scene benchmark itself:

    python tools/analysis/benchmark_scene.py --sizes 512 1024 2048 \
        --kinds rgb8 --plot docs/en/_static/scene_throughput.png
"""
import argparse
import glob
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STATIC = osp.join(REPO, 'docs', 'en', '_static')


def checkpoint(work_dir: str) -> str:
    """The demo's best checkpoint, else its newest."""
    found = sorted(glob.glob(osp.join(work_dir, 'best_F1_iter_*.pth')),
                   key=osp.getmtime) or sorted(
                       glob.glob(osp.join(work_dir, '*.pth')),
                       key=osp.getmtime)
    if not found:
        sys.exit(f'no checkpoint in {work_dir}: run tools/demo_changedet.sh '
                 'first')
    return found[-1]


def change_panels(work_dir: str, config: str, pairs: int, scale: int) -> str:
    """Test the demo's checkpoint with ``--show-dir`` and stack the panels
    of its first ``pairs`` test pairs, enlarged ``scale`` times."""
    show = osp.join(work_dir, 'pictures')
    subprocess.run([sys.executable, osp.join(REPO, 'tools', 'test.py'),
                    config, checkpoint(work_dir), '--work-dir', show,
                    '--show-dir', show], check=True, cwd=REPO)
    drawn = sorted(glob.glob(osp.join(show, '**', 'vis_image', '*.png'),
                             recursive=True))[:pairs]
    if not drawn:
        sys.exit(f'tools/test.py --show-dir drew nothing under {show}')
    rows = [cv2.imread(p) for p in drawn]
    sheet = np.concatenate(rows, axis=0)
    sheet = cv2.resize(sheet, None, fx=scale, fy=scale,
                       interpolation=cv2.INTER_NEAREST)
    out = osp.join(STATIC, 'change_panels.png')
    cv2.imwrite(out, sheet)
    return out


def small_copy(src: str, out: str, size: int) -> str:
    """``src`` shrunk to at most ``size`` px a side: the pages show it at
    that size, and the repository keeps a small file."""
    img = cv2.imread(src)
    scale = min(1.0, size / max(img.shape[:2]))
    img = cv2.resize(img, None, fx=scale, fy=scale,
                     interpolation=cv2.INTER_AREA)
    cv2.imwrite(out, img, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return out


def main():
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--work-dir', default='work_dirs/changedet_demo',
                        help="the demo's work dir (WORK_DIR of the demo)")
    parser.add_argument('--config', default='configs/changedet_demo.py')
    parser.add_argument('--pairs', type=int, default=4,
                        help='test pairs in the panel picture')
    parser.add_argument('--scale', type=int, default=2,
                        help='enlargement of the 64x64 chips')
    parser.add_argument('--quicklook-size', type=int, default=640,
                        help="the quicklook's longer side in the docs, px")
    args = parser.parse_args()
    print(change_panels(args.work_dir, args.config, args.pairs, args.scale))
    quicklook = osp.join(args.work_dir, 'scene', 'quicklook.png')
    if not osp.isfile(quicklook):
        sys.exit(f'{quicklook} not found: run the scene part of '
                 'tools/demo_changedet.sh first')
    print(small_copy(quicklook, osp.join(STATIC, 'demo_quicklook.png'),
                     args.quicklook_size))


if __name__ == '__main__':
    main()
