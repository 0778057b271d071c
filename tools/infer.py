"""Change map of an image pair of any size, by overlapping tiles.

    python tools/infer.py A.png B.png --config configs/changedet_unet.py \
        --checkpoint best.pth --out change.png [--overlay overlay.png] \
        [--prob prob.png] [--tile 256] [--overlap 32] [--device cpu]

Writes the change map as a 0/255 PNG, optionally the change probability
(0-255) and an overlay of the changes (red) on image B.
"""
import argparse

import mmcv
import numpy as np

from seg_plugins.apis import infer_change, init_change_model
from seg_plugins.utils.image_io import read_image


def overlay(img_b: np.ndarray, change: np.ndarray,
            alpha: float = 0.5) -> np.ndarray:
    """Image B (BGR) with changed pixels blended towards red."""
    out = img_b[..., :3].astype(np.float32).copy()
    red = np.array([0, 0, 255], np.float32)
    mask = change.astype(bool)
    out[mask] = (1 - alpha) * out[mask] + alpha * red
    return out.astype(np.uint8)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('img_a')
    parser.add_argument('img_b')
    parser.add_argument('--config', required=True)
    parser.add_argument('--checkpoint', required=True)
    parser.add_argument('--out', required=True, help='change map PNG')
    parser.add_argument('--overlay', help='overlay PNG on image B')
    parser.add_argument('--prob', help='change probability PNG')
    parser.add_argument('--tile', type=int, default=256)
    parser.add_argument('--overlap', type=int, default=32)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()

    model = init_change_model(args.config, args.checkpoint, args.device)
    img_b = read_image(args.img_b, 'color')
    change, prob = infer_change(model, args.img_a, img_b, args.tile,
                                args.overlap, args.batch_size)
    mmcv.imwrite(change * 255, args.out)
    if args.prob:
        mmcv.imwrite(prob, args.prob)
    if args.overlay:
        mmcv.imwrite(overlay(img_b, change), args.overlay)
    print(f'{args.out}: {int(change.sum())} of {change.size} pixels changed '
          f'({100 * change.mean():.2f}%)')


if __name__ == '__main__':
    main()
