from .change_inference import infer_change, init_change_model, tile_windows
from .scene_inference import SceneStopped, infer_change_scene

__all__ = [
    'SceneStopped', 'infer_change', 'infer_change_scene', 'init_change_model',
    'tile_windows'
]
