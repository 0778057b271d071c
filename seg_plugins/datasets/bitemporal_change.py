import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import mmengine
from mmseg.datasets import BaseCDDataset
from mmseg.registry import DATASETS

# Folder names (image A, image B, label) and suffixes of public releases.
LAYOUTS: Dict[str, dict] = {
    'levir': dict(folders=('A', 'B', 'label'),
                  suffixes=('.png', '.png', '.png')),
    's2looking': dict(folders=('Image1', 'Image2', 'label'),
                      suffixes=('.png', '.png', '.png')),
    # CDD's labels are JPEGs: compression noise around 0 and 255.
    'cdd': dict(folders=('A', 'B', 'OUT'), suffixes=('.jpg', '.jpg', '.jpg'),
                label_threshold=128),
}

PREPARE_HINT = {
    'levir': 'LEVIR-CD: put the release (train/val/test, each with A/ B/ '
    'label/, 1024x1024 PNGs) somewhere, then tile it into 256x256 crops '
    'with mmseg\'s converter: python "$(python -c "import mmseg, os; '
    'print(os.path.dirname(mmseg.__file__))")/.mim/tools/dataset_converters/'
    'levircd.py" --dataset_path <LEVIR-CD> -o data/levir_cd (README, '
    '"Preparing LEVIR-CD").',
}


@DATASETS.register_module()
class BiTemporalChangeDataset(BaseCDDataset):
    """Pairs of co-registered images and a binary change label.

    Layout under ``data_root`` (``layout='levir'``)::

        train/A/xxx.png  train/B/xxx.png  train/label/xxx.png
        val/...          test/...

    A, B and the label are paired by file name; a name missing from any of
    the three folders is an error that lists every such name (nothing is
    dropped silently). Labels may be 0/255 or 0/1; :class:`LoadChangeLabel`
    turns them into {0, 1} while loading.

    Args:
        layout (str): Preset of folder names and suffixes: 'levir'
            (A/B/label, .png), 's2looking' (Image1/Image2/label, .png) or
            'cdd' (A/B/OUT, .jpg). Default: 'levir'.
        split (str, optional): Split sub-folder ('train', 'val', 'test').
            None: the three folders sit directly under ``data_root``.
        folders (Sequence[str], optional): Explicit (A, B, label) folder
            names, overriding the layout's.
        data_prefix (dict, optional): Explicit ``img_path``, ``img_path2``,
            ``seg_map_path`` (mmseg's ``BaseCDDataset`` keys); overrides
            ``split`` and ``folders``. Leave ``seg_map_path`` out for
            unlabelled pairs.
        ann_file (str): Optional split list, one name per line (with or
            without suffix), relative to ``data_root``.
        label_threshold (int, optional): Binarise labels as ``label >=
            threshold`` instead of requiring {0,255}/{0,1} (the 'cdd' preset
            sets 128 for its JPEG labels).
        **kwargs: Passed to ``BaseCDDataset`` (suffixes, pipeline,
            test_mode, ...).
    """

    METAINFO = dict(
        classes=('unchanged', 'changed'),
        palette=[[0, 0, 0], [255, 255, 255]])

    def __init__(self,
                 layout: str = 'levir',
                 split: Optional[str] = None,
                 folders: Optional[Sequence[str]] = None,
                 data_prefix: Optional[dict] = None,
                 ann_file: str = '',
                 label_threshold: Optional[int] = None,
                 **kwargs) -> None:
        assert layout in LAYOUTS, (
            f'layout must be one of {sorted(LAYOUTS)}, got {layout!r}')
        preset = LAYOUTS[layout]
        self.layout = layout
        self.label_threshold = (label_threshold if label_threshold is not None
                                else preset.get('label_threshold'))
        if data_prefix is None:
            names = tuple(folders or preset['folders'])
            assert len(names) == 3, f'folders needs (A, B, label), got {names}'
            base = split or ''
            data_prefix = dict(
                img_path=osp.join(base, names[0]),
                img_path2=osp.join(base, names[1]),
                seg_map_path=osp.join(base, names[2]))
        for key, suffix in zip(('img_suffix', 'img_suffix2', 'seg_map_suffix'),
                               preset['suffixes']):
            kwargs.setdefault(key, suffix)
        super().__init__(data_prefix=data_prefix, ann_file=ann_file, **kwargs)

    def _folder(self, key: str) -> Optional[str]:
        """The folder of ``key``, checked to exist and hold files."""
        path = self.data_prefix.get(key)
        if not path:
            return None
        if not osp.isdir(path) or not os.listdir(path):
            what = 'is empty' if osp.isdir(path) else 'not found'
            raise FileNotFoundError(
                f'{type(self).__name__}: folder {path} {what}. Expected the '
                f'{self.layout!r} layout: {self.data_prefix}. '
                + PREPARE_HINT.get(self.layout, '') + ' Data elsewhere: '
                '--cfg-options {train,val,test}_dataloader.dataset.data_root='
                '<path> (a top-level data_root=... has no effect once the '
                'config is loaded).')
        return path

    @staticmethod
    def _stems(folder: str, suffix: str) -> Dict[str, str]:
        return {
            f[:-len(suffix)]: osp.join(folder, f)
            for f in sorted(os.listdir(folder)) if f.endswith(suffix)
        }

    def load_data_list(self) -> List[dict]:
        """Pair A, B and label files by name.

        Raises:
            FileNotFoundError: a folder is missing or empty.
            ValueError: names present in one folder but not in another, or
                listed in ``ann_file`` but absent; all of them are listed.
        """
        names, files = self._pair_files(
            ('img_path', 'img_path2', 'seg_map_path'),
            (self.img_suffix, self.img_suffix2, self.seg_map_suffix))
        return [
            dict(
                img_path=files['img_path'][n],
                img_path2=files['img_path2'][n],
                seg_map_path=files['seg_map_path'][n]
                if 'seg_map_path' in files else None,
                label_threshold=self.label_threshold,
                label_map=None,
                reduce_zero_label=False,
                seg_fields=[]) for n in names
        ]

    def _pair_files(self, keys: Sequence[str], suffixes: Sequence[str]):
        """Names present in every folder of ``keys`` (``data_prefix``
        entries) and, per key, name -> path; errors as in
        :meth:`load_data_list`."""
        folders = {k: self._folder(k) for k in keys}
        files = {
            k: self._stems(folders[k], s)
            for k, s in zip(keys, suffixes) if folders[k]
        }
        if self.ann_file:
            # A mistyped split list must not silently mean "every pair".
            if not osp.isfile(self.ann_file):
                raise FileNotFoundError(
                    f'{type(self).__name__}: ann_file {self.ann_file} not '
                    'found (leave ann_file empty to use every pair in the '
                    'folders)')
            lines = (ln.strip() for ln in mmengine.list_from_file(
                self.ann_file))
            names = [
                ln[:-len(self.img_suffix)]
                if ln.endswith(self.img_suffix) else ln for ln in lines if ln
            ]
            source = self.ann_file
        else:
            names = sorted(set().union(*files.values()))
            source = None
        problems = []
        for key, found in files.items():
            missing = [n for n in names if n not in found]
            if missing:
                where = f'listed in {source}' if source else 'present'
                problems.append(
                    f'{len(missing)} name(s) {where} but missing from '
                    f'{folders[key]} (*{suffixes[keys.index(key)]}): '
                    + ', '.join(missing[:20]) +
                    (' ...' if len(missing) > 20 else ''))
        if problems:
            raise ValueError(f'{type(self).__name__}: unpaired files:\n  '
                             + '\n  '.join(problems))
        if not names:
            raise FileNotFoundError(
                f'{type(self).__name__}: no *{self.img_suffix} files in '
                f'{folders["img_path"]}')
        return names, files
