"""Question (2026-11-24): is petbook's error-rate gap with fastai in its data pipeline or in its training loop?
petbook's Learner, Lite0 and fastai-style head, trained with `fine_tune(2)` on *fastai's* DataLoaders (the recipe of
bench/fine_tune.py, same validation files). Near fastai's error: the gap is in petbook's data; near petbook's: the loop.

    PYTHONPATH=$PWD .bench-venv/bin/python -m bench.probes.hybrid_fine_tune 0 1 2 3 4    # seeds; the peer venv (fastai + petbook)

Answer (5 seeds, CPU): 0.143 ± 0.022, fastai's error: the Learner, model, optimiser and schedule are not the gap (the
batch augmentation is: bench/probes/aug_swap.py). Kept as the first check of the GPU's fp16 gap.
"""
import random, sys, time, zlib
from pathlib import Path
import numpy as np, torch
import fastai.vision.all as fa
import petbook.all as P
from petbook.vision import efficientnet_lite0


def is_valid(o): return zlib.crc32(o.name.encode()) % 5 == 0      # bench/fine_tune.py's validation files


class DL:
    "A fastai DataLoader yielding plain tensors."
    def __init__(s, dl): s.dl = dl
    def __iter__(s):
        for x, y in s.dl: yield x.as_subclass(torch.Tensor), y.as_subclass(torch.Tensor)
    def __len__(s): return len(s.dl)


class DLS:
    "Just what petbook's Learner reads from DataLoaders; Normalize is listed so vision_learner doesn't add a second one."
    def __init__(s, f):
        s.train, s.valid = DL(f.train), DL(f.valid); s.n_inp = 1; s.device = torch.device('cpu'); s.path = Path('.')
        s.kinds = ['image', 'category']; s.vocab = list(f.vocab); s.c = len(s.vocab); s.batch_tfms = [P.Normalize.from_stats(*P.imagenet_stats)]
    def __getitem__(s, i): return [s.train, s.valid][i]


def main(argv=None):
    "Train one petbook Learner per seed (the arguments) on fastai's DataLoaders and print its error."
    path = P.get_pets('generated', n_per_breed=30, verbose=False)/'images'
    fd = fa.DataBlock(blocks=(fa.ImageBlock, fa.CategoryBlock), get_items=fa.get_image_files, splitter=fa.FuncSplitter(is_valid),
                      get_y=fa.using_attr(fa.RegexLabeller(r'(.+)_\d+.jpg$'), 'name'), item_tfms=fa.Resize(192),
                      batch_tfms=[*fa.aug_transforms(size=128, min_scale=0.75), fa.Normalize.from_stats(*fa.imagenet_stats)]
                      ).dataloaders(path, bs=32, num_workers=2, device='cpu')
    for seed in [int(a) for a in (sys.argv[1:] if argv is None else argv)] or [0]:
        random.seed(seed); np.random.seed(seed); torch.manual_seed(seed)
        learn = P.vision_learner(DLS(fd), efficientnet_lite0, metrics=P.error_rate)
        t = time.time()
        with learn.no_bar(): learn.fine_tune(2)
        print(f'hybrid (fastai data, petbook learner) seed {seed}: error {learn.recorder.values[-1][-1]:.3f} ({time.time()-t:.0f} s)', flush=True)


if __name__ == '__main__': main()
