"""What the change-model benchmark compares: its configs, sets and schedule.

``tools/analysis/benchmark_models.py`` measures every change model on the
same synthetic sets after the same short CPU schedule; this module names
them. The measuring is in :mod:`.model_zoo_measure`, the training runs in
:mod:`.model_zoo_training`, the table in :mod:`.model_zoo_table`.
"""
import glob
import os.path as osp

# The configs, the pipeline and the dataset converter live in the
# repository beside the package.
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINES = ('configs/changedet_unet.py', 'configs/changedet_fc_siam_conc.py',
             'configs/changedet_fc_siam_diff.py')
NEW_MODELS = ('snunet', 'tinycdv2', 'bit', 'changerex', 'lightcdnet',
              'hanet')
# The synthetic sets: folder under --data-dir, converter preset, side of
# a pair, training crop.
SETS = {
    'demo': ('synthetic_cd', 'demo', 64, 64),
    'hard': ('synthetic_cd_hard', 'hard', 256, 64),
}
PIPELINE = 'configs/_base_/datasets/levir_cd_opencd.py'
# The same CPU schedule for every model (open-cd's recipe shortened):
# AdamW, linear warm-up then linear decay to 0, batch and iterations sized
# so that ~14 models train on both sets in about an hour on 2 cores shared
# with other jobs.
SCHEDULE = dict(iters=120, batch_size=4, lr=3e-3, weight_decay=0.05,
                warmup=12, seed=0)
# How the papers and open-cd name the models of the default configs.
DISPLAY = {
    'changedet_unet': 'FC-EF', 'changedet_fc_siam_conc': 'FC-Siam-conc',
    'changedet_fc_siam_diff': 'FC-Siam-diff',
    'changedet_snunet_c16': 'SNUNet-CD c16',
    'changedet_snunet_c32': 'SNUNet-CD c32',
    'changedet_tinycdv2_s': 'TinyCDv2-S', 'changedet_tinycdv2_b': 'TinyCDv2-B',
    'changedet_tinycdv2_l': 'TinyCDv2-L',
    'changedet_lightcdnet_s': 'LightCDNet-S',
    'changedet_lightcdnet_b': 'LightCDNet-B',
    'changedet_lightcdnet_l': 'LightCDNet-L', 'changedet_hanet': 'HANet',
    'changedet_changerex_r18': 'ChangerEx-r18', 'changedet_bit_r18': 'BIT-r18',
}


def default_configs() -> list:
    """The configs measured when none are named.

    Returns:
        list[str]: FC-EF, FC-Siam-conc and FC-Siam-diff, then every
        ``configs/changedet_<model>*.py`` of :data:`NEW_MODELS` that exists,
        relative to the repository.
    """
    found = []
    for name in NEW_MODELS:
        found += sorted(glob.glob(osp.join(REPO, f'configs/changedet_'
                                           f'{name}*.py')))
    return list(BASELINES) + [osp.relpath(f, REPO) for f in found]


def model_name(config: str) -> str:
    """Short name of ``config``'s model, used for its run folders.

    Args:
        config (str): path of a config, e.g. ``configs/changedet_bit_r18.py``.

    Returns:
        str: ``FC-EF``, ``FC-Siam-conc`` or ``FC-Siam-diff`` for the
        baselines, else the file name without ``changedet_`` (``bit_r18``).
    """
    name = osp.splitext(osp.basename(config))[0]
    return {'changedet_unet': 'FC-EF',
            'changedet_fc_siam_conc': 'FC-Siam-conc',
            'changedet_fc_siam_diff': 'FC-Siam-diff'}.get(
                name, name.replace('changedet_', ''))


def schedule_for(iters: int) -> dict:
    """:data:`SCHEDULE` shortened (or lengthened) to ``iters`` iterations.

    Args:
        iters (int): training iterations.

    Returns:
        dict: a copy of :data:`SCHEDULE`; where ``iters`` differs, with it
        and a warm-up of at most half of it.
    """
    if iters == SCHEDULE['iters']:
        return dict(SCHEDULE)
    return dict(SCHEDULE, iters=iters,
                warmup=min(SCHEDULE['warmup'], iters // 2))


def display_name(config: str) -> str:
    """Name of ``config``'s model in the table, as its paper writes it.

    Args:
        config (str): path of a config.

    Returns:
        str: the :data:`DISPLAY` name, else :func:`model_name`.
    """
    name = osp.splitext(osp.basename(config))[0]
    return DISPLAY.get(name, model_name(config))
