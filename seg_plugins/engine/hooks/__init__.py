from .indexed_seg_visualization_hook import IndexedSegVisualizationHook

__all__ = ['IndexedSegVisualizationHook']
