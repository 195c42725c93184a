"""Probe (issue 25): 06_lr_finder's snapshot ensemble as a person runs it (not under test): the generated pets at 48 px,
06's small network from scratch, `fit_sgdr(N_CYCLES, CYCLE_LEN, lr_max=3e-3, cycle_mult=MULT)` saving a snapshot at the
end of each cycle; prints each snapshot's validation error/loss, the ensemble of all of them and of the last two.

    PYTHONPATH=. OMP_NUM_THREADS=1 python bench/probes/snapshot_ensemble.py 3 2 2 0 1 2     # N_CYCLES CYCLE_LEN MULT SEEDS…
"""
import sys, tempfile, torch, numpy as np, torch.nn as nn, torch.nn.functional as F
from pathlib import Path
from petbook.all import *
from petbook.schedule import SaveSnapshots, snapshot_preds, sgdr_cycles
path = get_pets(verbose=False)
dls = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, splitter=RandomSplitter(seed=42),
                get_y=using_attr(RegexLabeller(r'(.+)_\d+.jpg$'), 'name'), item_tfms=Resize(48),
                batch_tfms=Normalize.from_stats(*imagenet_stats)).dataloaders(path/'images', bs=64)
def simple_cnn(n_out):
    def block(ni, nf): return nn.Sequential(nn.Conv2d(ni, nf, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(nf), nn.ReLU())
    return nn.Sequential(block(3, 16), block(16, 32), block(32, 64), block(64, 128), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, n_out))
n_cyc, c_len, mult = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
for seed in map(int, sys.argv[4:] or [0]):
    snap_dir = Path(tempfile.mkdtemp())
    torch.manual_seed(seed)
    learn_e = Learner(dls, simple_cnn(dls.c), metrics=error_rate)
    with learn_e.no_bar(): learn_e.fit_sgdr(n_cyc, c_len, lr_max=3e-3, cycle_mult=mult, cbs=SaveSnapshots(sgdr_cycles(n_cyc, c_len, mult), snap_dir/'snap'))
    ens, targs, each = snapshot_preds(learn_e, learn_e.snapshots)
    nll = lambda p: float(F.nll_loss(p.clamp_min(1e-12).log(), targs)); err = lambda p: float(error_rate(p, targs))
    print(f"{n_cyc}x{c_len} mult {mult} seed {seed}: snapshots " + ', '.join(f"{err(p):.3f}/{nll(p):.3f}" for p in each) + f"; ensemble {err(ens):.3f}/{nll(ens):.3f}; last two {err((each[-1] + each[-2]) / 2):.3f}/{nll((each[-1] + each[-2]) / 2):.3f} (error/loss, {len(targs)} valid)", flush=True)
