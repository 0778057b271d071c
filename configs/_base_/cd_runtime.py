_base_ = ['./default_runtime.py']
# Panels A | B | ground truth | prediction (TP white, FP red, FN blue).
# TensorBoard: add dict(type='TensorboardVisBackend') to vis_backends, or
#   --cfg-options visualizer.vis_backends.0.type=TensorboardVisBackend
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='ChangeLocalVisualizer', vis_backends=vis_backends, name='visualizer')
# mmseg's SegTTAModel applies the sigmoid twice to one-logit heads.
tta_model = dict(type='BinarySegTTAModel')
