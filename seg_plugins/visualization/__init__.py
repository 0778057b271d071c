from .change_visualizer import ChangeLocalVisualizer

__all__ = ['ChangeLocalVisualizer']
