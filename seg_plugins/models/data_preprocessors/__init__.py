from .multi_image_data_preprocessor import MultiImageSegDataPreProcessor

__all__ = ['MultiImageSegDataPreProcessor']
