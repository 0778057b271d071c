from .change_inference import infer_change, init_change_model, tile_windows

__all__ = ['infer_change', 'init_change_model', 'tile_windows']
