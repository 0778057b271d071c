"""Georeferenced rasters (GeoTIFF, COG, any GDAL-readable file) through
rasterio, whose wheels bundle GDAL: no system GDAL is needed."""
from .bands import parse_bands, to_loader_order

__all__ = ['parse_bands', 'to_loader_order']
