
from .apply_to_each_image import ApplyToEachImage  # noqa: F401
from .color_label import LoadColorAnnotations  # noqa: F401
from .loading_pair import LoadChangeLabel, LoadImagePairFromFile  # noqa: F401
from .radiometric import RandomRadiometric  # noqa: F401
from .radiometric_norm import RadiometricNormalize  # noqa: F401
from .random_date_swap import RandomDateSwap  # noqa: F401
from .scd_labels import LoadSCDLabels, PackSCDInputs  # noqa: F401
