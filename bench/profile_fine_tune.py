"""Where petbook's `fine_tune` spends its time on this machine: the profile behind the fixes in BENCHMARKS.md.

    .venv/bin/pip install pyinstrument && .venv/bin/python bench/profile_fine_tune.py [--no-channels-last]

The same recipe as bench/fine_tune.py (Lite0 pretrained, 128 px, bs 32, generated pets 37 × 30), one seed. Prints
1. pyinstrument's call tree of `learn.fine_tune(2)` (Python level: model vs data vs optimiser vs callbacks), and
2. torch.profiler's operator table for 3 training steps of the unfrozen model (which kernels the time goes to)."""
import argparse, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import pets_path

ap = argparse.ArgumentParser()
ap.add_argument('--no-channels-last', action='store_true', help='profile the standard memory layout instead')
args = ap.parse_args()
try: from pyinstrument import Profiler
except ImportError: sys.exit('this profile needs pyinstrument: .venv/bin/pip install pyinstrument')
import torch
from petbook.all import *
from petbook.vision import efficientnet_lite0

path = pets_path(n_per_breed=30)/'images'
pets = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, splitter=RandomSplitter(seed=42),
                 get_y=using_attr(RegexLabeller(r'(.+)_\d+.jpg$'), 'name'),
                 item_tfms=Resize(192), batch_tfms=aug_transforms(size=128, min_scale=0.75))
dls = pets.dataloaders(path, bs=32, num_workers=2)
torch.manual_seed(0)
learn = vision_learner(dls, efficientnet_lite0, metrics=error_rate, channels_last=not args.no_channels_last)

p = Profiler(interval=0.005)
with learn.no_bar():
    p.start(); t = time.perf_counter(); learn.fine_tune(2); wall = time.perf_counter() - t; p.stop()
print(p.output_text(unicode=False, color=False))
print(f"fine_tune(2): {wall:.1f} s, error rate {float(learn.validate()[1]):.3f}")

xb, yb = dls.one_batch(); learn.unfreeze(); learn.model.train()
step = lambda: learn.loss_func(learn.model(xb), yb).backward()
step()
with torch.profiler.profile() as prof:
    for _ in range(3): step()
print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=12))
