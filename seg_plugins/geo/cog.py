"""Single-band uint8 rasters written window by window, then published as
Cloud-Optimised GeoTIFFs under their final name only once complete.

The windows go to a raw file beside the output (``<out>.partial.u8``, one
byte per pixel, row by row; with a mask, its validity 0/255 in
``<out>.partial.mask.u8``), with ``os.pwrite``, not through GDAL: GDAL's
block cache is shared by the whole process, and a reader thread that
needs room writes the dirty blocks of an output being written by another
thread. Outputs written through GDAL beside the reader's threads crashed now
and then (segfaults, I/O errors), and a killed process loses nothing that
``pwrite`` has handed over, with no flush to wait for. It costs a byte per
pixel of disk until the COG is written.

At the end a VRT shows the raw files to GDAL as a georeferenced band (and
mask), the overview levels are built beside it (``overviews.py``, in
numpy: faster than the COG driver for a masked band),
and the COG driver copies both into ``<out>.partial``, which is renamed to
``<out>`` (atomic on one file system). A run killed at any point leaves at
most ``<out>.partial*`` files, removed by the next run, never a file under
the final name; or, with ``resume``, taken up again by it
(``apis/scene_progress.py``).
"""
import glob
import os
import os.path as osp
import xml.etree.ElementTree as ET
from typing import Iterable, List, Optional, Sequence

import numpy as np
import rasterio.shutil
from affine import Affine

from .band_stack import date_files
from .grid import Grid
from .overviews import build_levels, overview_sizes, vrt_with_overviews
from .remote import is_remote, path_key

COG_BLOCK = 512  # the COG driver's default
# This pass cannot overlap the model, so it takes every core. Level 3, not
# GDAL's 6: several times faster for a few percent more bytes.
DEFLATE_LEVEL = 3
MAX_STRIP = 4096  # widest strip of windows gathered into one write


def same_file(a: str, b: str) -> bool:
    """Whether two paths name one file (links and relative paths
    resolved), whether or not it exists yet; a remote name
    (``remote.py``) is one file only with itself."""
    if is_remote(a) or is_remote(b):
        return path_key(a) == path_key(b)
    if osp.exists(a) and osp.exists(b):
        return osp.samefile(a, b)
    return osp.realpath(a) == osp.realpath(b)


def check_outputs(paths: Iterable[Optional[str]], overwrite: bool,
                  inputs: Iterable[Optional[str]] = ()) -> None:
    """Refuse existing outputs unless ``overwrite``, and always an output
    that is one of the ``inputs`` or another output (``--out A.tif
    --overwrite`` replaced date A with the change map), or whose folder
    cannot be made (a file is in the way); before any work is done, so a
    refused run changes nothing.

    Raises:
        ValueError: naming an output that is an input or given twice, or
            the file in the way of its folder.
        FileExistsError: naming the first existing path.
    """
    paths = [str(p) for p in paths if p]
    for path in paths:
        folder = _first_existing(osp.dirname(osp.abspath(path)))
        if not osp.isdir(folder):
            raise ValueError(f'output {path}: {folder} is a file, not a '
                             'folder')
    for i, path in enumerate(paths):
        for other in [f for p in inputs if p for f in date_files(p)]:
            if same_file(path, other):
                raise ValueError(f'output {path} is the input {other}: '
                                 'refused, even with --overwrite')
        for other in paths[:i]:
            if same_file(path, other):
                raise ValueError(f'output {path} is given twice (also as '
                                 f'{other}): each output needs its own path')
    for path in paths:
        if osp.exists(path) and not overwrite:
            raise FileExistsError(
                f'{path} exists: pass overwrite=True (--overwrite) to '
                'replace it')


def _first_existing(folder: str) -> str:
    """``folder`` or its nearest ancestor that exists."""
    while not osp.exists(folder) and osp.dirname(folder) != folder:
        folder = osp.dirname(folder)
    return folder


def _remove(path: str) -> None:
    if osp.exists(path):
        os.remove(path)


def remove_partials(path: str) -> List[str]:
    """Remove whatever a ``COGWriter`` of ``path`` (and the progress
    record beside it) wrote under ``<path>.partial*``; returns those
    paths."""
    gone = sorted(glob.glob(glob.escape(f'{path}.partial') + '*'))
    for f in gone:
        _remove(f)
    return gone


def partial_files(path: str, masked: bool = False) -> List[str]:
    """The raw files that a ``COGWriter`` of ``path`` writes before its
    COG: the data, then with ``masked`` the validity."""
    files = [f'{path}.partial.u8']
    return files + [f'{path}.partial.mask.u8'] if masked else files


def not_resumable(path: str, grid: Grid,
                  masked: bool = False) -> Optional[str]:
    """Why a ``COGWriter`` of ``path`` cannot take up the raw files an
    interrupted run left; None when it can."""
    for f in partial_files(path, masked):
        if not osp.exists(f):
            return f'{f} missing'
        if osp.getsize(f) != grid.height * grid.width:
            return f'{f} is not {grid.width}x{grid.height} bytes'
    return None


def _raw_band(parent: ET.Element, path: str, width: int) -> ET.Element:
    """A VRT band of the raw uint8 file ``path`` (in the VRT's folder)."""
    band = ET.SubElement(parent, 'VRTRasterBand', dataType='Byte',
                         subClass='VRTRawRasterBand')
    ET.SubElement(band, 'SourceFilename',
                  relativeToVRT='1').text = osp.basename(path)
    for tag, value in (('ImageOffset', 0), ('PixelOffset', 1),
                       ('LineOffset', width)):
        ET.SubElement(band, tag).text = str(value)
    return band


def _color_table(band: ET.Element, palette: Sequence[Sequence[int]]) -> None:
    """A VRT band's colour table: ``palette``'s (r, g, b) from value 0."""
    ET.SubElement(band, 'ColorInterp').text = 'Palette'
    table = ET.SubElement(band, 'ColorTable')
    for r, g, b in palette:
        ET.SubElement(table, 'Entry', c1=str(r), c2=str(g), c3=str(b),
                      c4='255')


class COGWriter:
    """One uint8 band on ``grid``, written window by window.

    Args:
        path (str): Final output path.
        grid (Grid): Output grid; without a CRS the file is written with
            no georeferencing.
        nodata (int, optional): Nodata value of the band.
        masked (bool): Keep validity in an internal mask band instead of
            a nodata value (for data using all 256 values).
        resampling (str): Of the overviews: 'nearest' for classes,
            'average' for continuous values (see ``overviews.halve``).
        resume (bool): Write into the raw files an interrupted run left
            (which must be there), instead of removing them and starting
            new ones.
        tags (dict, optional): Dataset metadata (GDAL tags) of the COG.
        palette (Sequence, optional): (r, g, b) of each value from 0: a
            colour table, so that GIS software shows the band as classes.
        names (Sequence[str], optional): The name of each value from 0,
            comma-separated in a ``CLASS_NAMES`` tag (in the file; GDAL's
            category names would go to an ``.aux.xml`` beside it).

    Attributes:
        files (list[str]): The raw files written (data, then mask).
    """

    def __init__(self, path: str, grid: Grid, nodata: Optional[int] = None,
                 masked: bool = False, resampling: str = 'nearest',
                 resume: bool = False, tags: Optional[dict] = None,
                 palette: Optional[Sequence[Sequence[int]]] = None,
                 names: Optional[Sequence[str]] = None):
        self.path = str(path)
        self.tags = dict(tags or {})
        self.palette = palette
        if names:
            self.tags['CLASS_NAMES'] = ','.join(names)
        self.partial = self.path + '.partial'
        self.grid, self.nodata = grid, nodata
        self.masked = masked
        self.resampling = resampling
        self.files = partial_files(self.path, masked)
        os.makedirs(osp.dirname(osp.abspath(self.path)), exist_ok=True)
        if resume:
            why = not_resumable(self.path, grid, masked)
            if why:
                raise ValueError(f'cannot resume {self.path}: {why}')
        else:
            remove_partials(self.path)  # from a killed run
            for f in self.files:
                with open(f, 'wb') as raw:
                    raw.truncate(grid.height * grid.width)  # sparse
        self._fds = [os.open(f, os.O_RDWR) for f in self.files]
        self._pending = []  # (data, valid) of the strip being gathered
        self._rows = self._cols = None

    def write(self, rows: slice, cols: slice, data: np.ndarray,
              valid: Optional[np.ndarray] = None) -> None:
        """Write ``data`` (h, w) uint8 at (rows, cols); with ``masked``,
        ``valid`` (h, w) bool marks the valid pixels.

        Windows on the same rows, each starting where the last one
        stopped, are gathered and written as one strip (up to
        ``MAX_STRIP`` wide): a row of a strip is one ``pwrite``, and a
        strip as wide as the raster one for all its rows. ``data`` and
        ``valid`` must not change afterwards.
        """
        if self._pending and (rows != self._rows or
                              cols.start != self._cols.stop or
                              cols.stop - self._cols.start > MAX_STRIP):
            self._flush()
        if not self._pending:
            self._rows, self._cols = rows, cols
        self._cols = slice(self._cols.start, cols.stop)
        self._pending.append((data, valid))

    def _flush(self) -> None:
        if not self._pending:
            return
        strips = [np.hstack([d for d, _ in self._pending])]
        if self.masked:
            valid = np.hstack([v for _, v in self._pending])
            strips.append(valid.view(np.uint8) * np.uint8(255))
        width = self.grid.width
        for fd, strip in zip(self._fds, strips):
            strip = np.ascontiguousarray(strip)
            start = self._rows.start * width + self._cols.start
            if strip.shape[1] == width:
                os.pwrite(fd, strip, start)
            else:
                for i, row in enumerate(strip):
                    os.pwrite(fd, row, start + i * width)
        self._pending = []

    def sync(self) -> None:
        """Hand everything written so far to the OS: a killed process then
        loses none of it. A progress record that counts on it must also
        wait for ``os.fsync`` of ``files``, or a machine that fails could
        lose it (``apis/scene_progress.py``)."""
        self._flush()

    def _header(self) -> str:
        """A VRT of the raw files: the band, georeferenced, with its nodata
        value or mask."""
        grid, path = self.grid, self.partial + '.raw.vrt'
        root = ET.Element('VRTDataset', rasterXSize=str(grid.width),
                          rasterYSize=str(grid.height))
        if grid.crs is not None:
            ET.SubElement(root, 'SRS').text = grid.crs.to_wkt()
        if grid.crs is not None or grid.transform != Affine.identity():
            ET.SubElement(root, 'GeoTransform').text = ', '.join(
                repr(float(v)) for v in grid.transform.to_gdal())
        if self.tags:  # the COG driver copies them
            meta = ET.SubElement(root, 'Metadata')
            for key, value in self.tags.items():
                ET.SubElement(meta, 'MDI', key=str(key)).text = str(value)
        band = _raw_band(root, self.files[0], grid.width)
        band.set('band', '1')
        if self.nodata is not None:
            ET.SubElement(band, 'NoDataValue').text = str(self.nodata)
        if self.palette:
            _color_table(band, self.palette)
        if self.masked:
            _raw_band(ET.SubElement(root, 'MaskBand'), self.files[1],
                      grid.width)
        ET.ElementTree(root).write(path)
        return path

    def commit(self) -> str:
        """Convert to a COG with overviews and move it to its final name
        (:meth:`publish`, :meth:`replace`, :meth:`clean`).

        Returns:
            str: the final path.
        """
        self.publish()
        self.replace()
        self.clean()
        return self.path

    def publish(self) -> None:
        """Write the COG, with its overviews, under the partial name; the
        raw files stay, so that a run killed meanwhile can resume."""
        self._close()
        header = self._header()
        count = len(overview_sizes(self.grid.height, self.grid.width,
                                   COG_BLOCK))
        levels = [f'{self.partial}.ovr{i + 1}.tif' for i in range(count)]
        masks = ([f'{self.partial}.msk{i + 1}.tif' for i in range(count)]
                 if self.masked else None)
        build_levels(header, levels, masks, self.resampling)
        vrt = self.partial + '.vrt'
        vrt_with_overviews(header, vrt, levels, masks)
        # FORCE_USE_EXISTING: the levels above or none, never GDAL's own
        # (a level missing here shows in the tests, not as a slow commit).
        rasterio.shutil.copy(
            vrt, self.partial, driver='COG', compress='deflate',
            level=DEFLATE_LEVEL, num_threads='all_cpus',
            blocksize=COG_BLOCK, overviews='force_use_existing',
            bigtiff='if_safer')

    def replace(self) -> str:
        """Move the published COG to its final name (atomic on one file
        system); returns that name."""
        os.replace(self.partial, self.path)
        return self.path

    def clean(self) -> None:
        """Remove the raw files and whatever else was written beside the
        final name."""
        remove_partials(self.path)

    def _close(self) -> None:
        if not self._fds:
            return
        self._flush()
        for fd in self._fds:
            os.close(fd)
        self._fds = []

    def abort(self, keep: bool = False) -> None:
        """Remove what was written, or with ``keep`` leave it to resume;
        the final name is untouched."""
        self._close()
        if not keep:
            remove_partials(self.path)
