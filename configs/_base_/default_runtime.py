# mmseg's runtime, plus the import that registers seg_plugins' components.
_base_ = ['mmseg::_base_/default_runtime.py']
custom_imports = dict(imports=['seg_plugins'], allow_failed_imports=False)
