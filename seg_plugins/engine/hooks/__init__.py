from .indexed_seg_visualization_hook import IndexedSegVisualizationHook
from .train_vis_hook import SegTrainVisHook

__all__ = ['IndexedSegVisualizationHook', 'SegTrainVisHook']
