"""Regions whose pieces were polygonised in separate blocks, made whole.

The pieces of a region come from blocks of a regular grid (``block``
pixels a side, from the origin), in pixel coordinates. Pieces of
different blocks meet only along the grid's lines, and pieces of one
block never share an edge (they would be one piece). ``OpenRegions``
groups the pieces by region as blocks are read; ``union_pieces`` makes a
region one polygon, once, when it is complete.

A region's union is a coverage union (GEOS ``CoverageUnion``: the edges
that two pieces share cancel out), not an overlay: after a vertex is put
at every pixel corner of the edges on grid lines, the pieces share those
edges segment for segment, which is all a coverage union needs. Holes
that do not reach a grid line cannot change and are left out of the
union, then put back. On a region of hundreds of pieces and millions of
vertices this is an order of magnitude faster than ``union_all``.
"""
from typing import Dict, Iterator, List

import numpy as np
import shapely
from shapely.geometry import LinearRing, Polygon


def _unit_steps(ring: np.ndarray, block: int) -> np.ndarray:
    """A closed ring (n, 2) with a vertex at every pixel corner along its
    edges that lie on a grid line."""
    a, b = ring[:-1], ring[1:]
    on_line = (((a[:, 0] == b[:, 0]) & (a[:, 0] % block == 0)) |
               ((a[:, 1] == b[:, 1]) & (a[:, 1] % block == 0)))
    steps = np.where(on_line, np.abs(b - a).sum(1), 1).astype(np.int64)
    edge = np.repeat(np.arange(len(a)), steps)
    k = np.arange(len(edge)) - np.repeat(np.cumsum(steps) - steps, steps)
    points = a[edge] + np.sign(b - a)[edge] * k[:, None]  # exact integers
    return np.vstack([points, ring[-1:]])


def _corners(ring: np.ndarray) -> np.ndarray:
    """A closed ring (n, 2) without the vertices where it goes straight
    on (those ``_unit_steps`` added)."""
    xy = ring[:-1]
    before, after = xy - np.roll(xy, 1, 0), np.roll(xy, -1, 0) - xy
    xy = xy[before[:, 0] * after[:, 1] != before[:, 1] * after[:, 0]]
    return np.vstack([xy, xy[:1]])


def _polygon(shell, holes) -> Polygon:
    """A polygon of rings given as LinearRings or closed (n, 2) arrays."""
    def ring(r):
        return r if isinstance(r, LinearRing) else shapely.linearrings(r)
    return shapely.polygons(ring(shell), [ring(h) for h in holes] or None)


def _reaches_line(ring, block: int) -> bool:
    return any(v % block == 0 for v in ring.bounds)


def union_pieces(pieces: List[Polygon], block: int) -> List[Polygon]:
    """The union of one region's pieces.

    Args:
        pieces (list[Polygon]): Pieces from blocks of side ``block``, in
            pixel coordinates, that together form one region.
        block (int): The grid's block side.

    Returns:
        list[Polygon]: the region, one polygon (more only from pieces
        that are not one region).
    """
    held, kept = [], []
    for piece in pieces:
        holes = []
        for hole in piece.interiors:
            (holes if _reaches_line(hole, block) else kept).append(hole)
        held.append(_polygon(
            _unit_steps(np.asarray(piece.exterior.coords), block),
            [_unit_steps(np.asarray(h.coords), block) for h in holes]))
    union = shapely.coverage_union_all(held)
    if union.geom_type != 'Polygon':
        # Pieces of one 4-connected region make one polygon; should they
        # not, the overlay union (slow, but it takes anything) decides,
        # rather than the run failing at its very end.
        union = shapely.union_all(pieces)
        return list(getattr(union, 'geoms', [union]))
    return [_polygon(_corners(np.asarray(union.exterior.coords)),
                     [_corners(np.asarray(h.coords))
                      for h in union.interiors] + kept)]


class OpenRegions:
    """The pieces of regions that may go on below the block row last
    read, grouped by region: a union-find over piece ids (from 1; 0 is no
    piece).

    Args:
        block (int): The side of the blocks the pieces come from.
    """

    def __init__(self, block: int):
        self.block = block
        self._parent: Dict[int, int] = {}
        self._pieces: Dict[int, list] = {}  # root id -> [(id, piece)]
        self._next = 1

    def add(self, piece: Polygon) -> int:
        """Hold ``piece`` as a region of its own; returns its id."""
        i = self._next
        self._next += 1
        self._parent[i] = i
        self._pieces[i] = [(i, piece)]
        return i

    def _find(self, i: int) -> int:
        parent = self._parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(self, a: np.ndarray, b: np.ndarray) -> None:
        """Join the regions of ``a`` and ``b`` (piece ids (n,), for n
        pixels on either side of a block border) wherever both hold a
        piece: those pixels share an edge."""
        both = (a > 0) & (b > 0)
        if not both.any():
            return
        for i, j in np.unique(np.stack([a[both], b[both]], 1), axis=0):
            ri, rj = self._find(int(i)), self._find(int(j))
            if ri == rj:
                continue
            if len(self._pieces[ri]) > len(self._pieces[rj]):
                ri, rj = rj, ri
            self._parent[ri] = rj
            self._pieces[rj].extend(self._pieces.pop(ri))

    def close(self, reaching: np.ndarray) -> Iterator[Polygon]:
        """Yield, whole, every region with no piece in ``reaching`` (the
        piece ids (n,) on the lower border of the block row last read),
        and forget it."""
        still = {self._find(int(i)) for i in np.unique(reaching) if i}
        for root in [r for r in self._pieces if r not in still]:
            members = self._pieces.pop(root)
            for i, _ in members:
                del self._parent[i]
            if len(members) == 1:
                yield members[0][1]
            else:
                yield from union_pieces([p for _, p in members],
                                        self.block)
