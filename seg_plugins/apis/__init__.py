from ..geo.tiling import tile_windows
from .change_inference import infer_change, init_change_model
from .scene_inference import infer_change_scene
from .scene_pipeline import ScenePipeline, SceneStopped
from .scene_result import SceneResult

__all__ = [
    'ScenePipeline', 'SceneResult', 'SceneStopped', 'infer_change',
    'infer_change_scene', 'init_change_model', 'tile_windows'
]
