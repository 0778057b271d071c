"""What a scene run made and counted (:func:`infer_change_scene`)."""
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Iterator, Optional


@dataclass(eq=False)
class SceneResult(Mapping):
    """The outputs, counts and timings of one scene run.

    Read as attributes (``result.changed_pixels``) or, like the dict it
    replaces, by key (``result['changed_pixels']``, ``result.items()``).

    Attributes:
        change (str): Path of the change map COG.
        prob (str | None): Path of the change probability COG, if asked.
        polygons (str | None): Path of the change regions' vector file, if
            asked.
        height (int): Rows of the scene (date A's grid), in pixels.
        width (int): Columns of the scene, in pixels.
        valid_pixels (int): Pixels valid in both dates.
        changed_pixels (int): Valid pixels predicted changed.
        changed_percent (float): ``changed_pixels`` in percent of
            ``valid_pixels``.
        crs (str | None): Date A's CRS as a string, None without one.
        georeferenced (bool): Whether date A has a CRS.
        pixel_area_m2 (float | None): Ground area of one pixel at the
            scene's centre, in m^2 (``geo/ground_area.py``); None when the
            CRS cannot be placed on Earth.
        changed_area_m2 (float | None): Ground area of the changed pixels,
            in m^2, each at its tile's centre; None as above.
        tiles_run (int): Tiles the model ran, the resumed run's included.
        tiles_skipped (int): Tiles not run, their core nodata throughout.
        tiles_resumed (int): Tiles done by the interrupted run that this
            one resumed (counted in the pixel and tile counts above).
        regions (int | None): Polygons written, None without
            ``polygons``.
        seconds (float): Wall-clock time of the whole call, in seconds.
        read_cpu_seconds (float): CPU time of the reader, with its reads
            of the two dates, in seconds (beside the model, or between its
            forward passes).
        write_cpu_seconds (float): CPU time of the writer, in seconds.
        commit_seconds (float): Wall-clock time of publishing the COGs,
            after the model, in seconds.
        took_turns (bool): Whether reading and writing took turns with the
            forward passes (``utils/cpu_turns.py``).
        radiometric (str): The dates' radiometric normalisation: 'none',
            'standardize' or 'match'.
        precision (str): The network's: 'fp32', 'bf16' or 'fp16'.
        from_map (str | None): Path of the from-class COG of a semantic
            change model (``scd_scene.py``), else None.
        to_map (str | None): Path of its to-class COG.
        area_table (str | None): Path of its from-to area table (CSV).
    """
    change: str
    prob: Optional[str]
    polygons: Optional[str]
    height: int
    width: int
    valid_pixels: int
    changed_pixels: int
    changed_percent: float
    crs: Optional[str]
    georeferenced: bool
    pixel_area_m2: Optional[float]
    changed_area_m2: Optional[float]
    tiles_run: int
    tiles_skipped: int
    tiles_resumed: int
    regions: Optional[int]
    seconds: float
    read_cpu_seconds: float
    write_cpu_seconds: float
    commit_seconds: float
    took_turns: bool
    radiometric: str
    precision: str
    from_map: Optional[str] = None
    to_map: Optional[str] = None
    area_table: Optional[str] = None

    def __getitem__(self, key: str):
        if key not in self._names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    @classmethod
    def _names(cls) -> tuple:
        return tuple(f.name for f in fields(cls))
