import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from .binary_seg_tta import BinarySegTTAModel
from .scd_encoder_decoder import scd_logits, scd_predictions, scd_probabilities


@MODELS.register_module()
class SCDTTAModel(BinarySegTTAModel):
    """Test-time augmentation of a semantic change model
    (:class:`SCDEncoderDecoder`, or an exported SCD graph's segmentor).

    The views are merged in probability space, each date's softmax over its
    classes and the change sigmoid averaged on their own: the mean of
    probabilities is the views' ensemble prediction, bounded per view (one
    confident view cannot outvote the others as its logits could), and it is
    what an exported SCD graph returns. ``seg_logits`` holds the merge in
    the model's layout (:func:`scd_logits` of the mean probabilities), and
    the three maps come from it as the model makes them
    (:func:`scd_predictions`): change where the mean change probability
    exceeds the model's threshold, the from/to classes the argmax of each
    date's mean probabilities there.
    """

    def merge_views(self, out: SegDataSample, scores: torch.Tensor) -> None:
        """Args:
            out (SegDataSample): the merged sample, filled in place.
            scores (Tensor): the views' logits, shape (V, 2K - 1, H, W).
        """
        k = self.module.num_scd_classes
        prob = scd_probabilities(scores.float(), k).mean(0)
        out.seg_logits = PixelData(data=scd_logits(prob, k))
        scd_predictions([out], k, self.module.threshold)
