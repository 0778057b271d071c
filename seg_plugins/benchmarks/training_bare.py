"""The bare PyTorch loop that the runner's overhead is measured against:
the U-Net tutorial's ("图像分割") Dataset reading PNGs with PIL, a
DataLoader, forward, cross entropy, backward, step."""
import glob
import os.path as osp
import time
from typing import Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


class PngPairs(torch.utils.data.Dataset):
    """The U-Net tutorial's loader: image and label PNGs to tensors.

    Args:
        img_dir (str): the images (``*.png``).
        ann_dir (str): the label PNGs, named as the images.
        mean (Sequence[float]): per-channel mean (RGB).
        std (Sequence[float]): per-channel standard deviation (RGB).
    """

    def __init__(self, img_dir: str, ann_dir: str, mean: Sequence[float],
                 std: Sequence[float]):
        self.imgs = sorted(glob.glob(osp.join(img_dir, '*.png')))
        self.ann_dir = ann_dir
        self.mean = torch.tensor(mean).view(3, 1, 1)
        self.std = torch.tensor(std).view(3, 1, 1)

    def __len__(self) -> int:
        return len(self.imgs)

    def __getitem__(self, i: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """The ``i``-th sample: image (3, H, W) float, normalised; label
        (H, W) int64."""
        img = np.asarray(Image.open(self.imgs[i]).convert('RGB'), np.float32)
        img = (torch.from_numpy(img).permute(2, 0, 1) - self.mean) / self.std
        label = np.asarray(
            Image.open(osp.join(self.ann_dir, osp.basename(self.imgs[i]))))
        return img, torch.from_numpy(label.astype(np.int64))


def bare_time(cfg, model, warmup: int, iters: int) -> float:
    """Train ``model`` with the bare loop on ``cfg``'s training set.

    Args:
        cfg (mmengine.Config): gives the data (root, prefixes, batch size,
            workers), the preprocessor's mean/std and Adam's learning rate.
        model (torch.nn.Module): an mmseg ``EncoderDecoder``: its backbone
            and decode head are trained.
        warmup (int): the untimed iterations first.
        iters (int): the timed iterations.

    Returns:
        float: seconds per timed iteration.
    """
    ds_cfg = cfg.train_dataloader.dataset
    root, prefix = ds_cfg.data_root, ds_cfg.data_prefix
    pre = cfg.model.data_preprocessor
    dataset = PngPairs(osp.join(root, prefix.img_path),
                       osp.join(root, prefix.seg_map_path), pre.mean, pre.std)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=cfg.train_dataloader.batch_size, shuffle=True,
        drop_last=True, num_workers=cfg.train_dataloader.num_workers)
    backbone, head = model.backbone, model.decode_head
    optimizer = torch.optim.Adam(model.parameters(),
                                 lr=cfg.optim_wrapper.optimizer.lr)
    model.train()
    done, start = 0, None
    while done < warmup + iters:
        for img, label in loader:
            if done == warmup:
                start = time.perf_counter()
            logits = head(backbone(img))
            logits = F.interpolate(logits, label.shape[-2:], mode='bilinear')
            loss = F.cross_entropy(logits, label, ignore_index=255)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            done += 1
            if done == warmup + iters:
                break
    return (time.perf_counter() - start) / iters
