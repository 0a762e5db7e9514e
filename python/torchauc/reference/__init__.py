"""Pure-PyTorch references, one module per family: the test oracles (float64, small n) and the
benchmark baselines, so the baseline we beat is the code we check against. ``import torchauc`` does
not import this package (it may import numpy); import ``torchauc.reference.<family>``."""
