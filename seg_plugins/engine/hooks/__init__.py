from .channels_last_hook import ChannelsLastHook
from .finite_loss_hook import FiniteLossHook, NonFiniteLossError
from .indexed_seg_visualization_hook import IndexedSegVisualizationHook
from .safe_checkpoint_hook import SafeCheckpointHook
from .train_vis_hook import SegTrainVisHook

__all__ = [
    'ChannelsLastHook', 'FiniteLossHook', 'IndexedSegVisualizationHook',
    'NonFiniteLossError', 'SafeCheckpointHook', 'SegTrainVisHook'
]
