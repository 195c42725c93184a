"""Question (issue 22, 2026-11-29): does Lite0's BatchNorm momentum (the original's 0.01 or PyTorch's 0.1), or
re-estimating the running statistics after training, change the error on the generated pets and on real photos?
petbook only, the recipe of bench/fine_tune.py, paired seeds; `--modes` also ablates the JPEG draft decode (`nodraft`),
the whole-pixel crop box (`subpixel`), RandomBlur (`noblur`) and drop-connect (`nodc`).

    python -m bench.probes.bn_probe --data generated --seeds 0 1 2 --modes m0.1 m0.01
    python -m bench.probes.bn_probe --data real --seeds 0 1 2 3 4 --modes m0.01 m0.01+nodraft

Answer (BENCHMARKS.md, "BatchNorm momentum"): generated pets 0.164 with 0.1 against 0.292 with 0.01 (3 seeds), so
the generated-pets recipe passes `bn_momentum=0.1`; real photos (5 seeds) 0.379 against 0.373, no effect visible on
483 photos. The draft decode, the whole-pixel box and RandomBlur: within ±0.016 on photos, none shown to matter."""
import gc, re, sys, time, zlib, json, random, argparse
import numpy as np, torch, torch.nn as nn
from pathlib import Path
from petbook.all import *
from petbook.vision import efficientnet_lite0
from ..recipes import REAL_PETS, pets_path


def main(argv=None):
    "Train each mode over the seeds and print each error and the means."
    ap = argparse.ArgumentParser(); ap.add_argument('--data', default='generated'); ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--modes', nargs='+', default=['m0.1', 'm0.01', 'm0.01+recal']); args = ap.parse_args(argv)
    path = REAL_PETS if args.data == 'real' else pets_path(n_per_breed=30)

    def recal(learn):
        bns = [m for m in learn.model[0].modules() if isinstance(m, nn.BatchNorm2d)]
        saved = [m.momentum for m in bns]
        for m in bns: m.reset_running_stats(); m.momentum = None
        learn.model.train()
        with torch.no_grad():
            for xb, yb in learn.dls.train: learn.model[0](xb)
        for m, mom in zip(bns, saved): m.momentum = mom

    import petbook.augment as A
    _load, _resize, _ib = A.load_rgb, A.resize_image, A._int_box
    def ablate(mode):
        "Undo one of petbook's pipeline choices (in this process; forked DataLoader workers inherit it)."
        A.load_rgb = (lambda img, draft=None: _load(img, None)) if 'nodraft' in mode else _load
        A._int_box = (lambda box, size: tuple(float(v) for v in box)) if 'subpixel' in mode else _ib
        A.resize_image = (lambda img, size, resample=A.Image.Resampling.BILINEAR, box=None: img.resize(tuple(size), resample, box=box)) if 'subpixel' in mode else _resize

    for mode in args.modes:
        ablate(mode)
        errs, walls = [], []
        for seed in args.seeds:
            fold = seed % 5 if args.data == 'real' else 0
            def is_valid(o): return zlib.crc32(o.name.encode()) % 5 == fold
            vocab = sorted({re.match(r'(.+)_\d+.jpg$', f.name).group(1) for f in get_image_files(path)})
            pets = DataBlock(blocks=(ImageBlock, CategoryBlock(vocab=vocab)), get_items=get_image_files, splitter=FuncSplitter(is_valid),
                             get_y=using_attr(RegexLabeller(r'(.+)_\d+.jpg$'), 'name'),
                             item_tfms=Resize(160), batch_tfms=aug_transforms(size=128, min_scale=0.75, max_blur=0 if 'noblur' in mode else 0.25))
            dls = pets.dataloaders(path, bs=32, num_workers=2)
            random.seed(seed); np.random.seed(seed); torch.manual_seed(seed)
            mom = 0.1 if mode.startswith('m0.1') and not mode.startswith('m0.01') else 0.01
            kw = {} if 'nodc' not in mode else {}
            learn = vision_learner(dls, efficientnet_lite0, metrics=error_rate, bn_momentum=mom)
            if 'nodc' in mode:
                for b in learn.model[0].modules():
                    if hasattr(b, 'drop_rate'): b.drop_rate = 0.
            t = time.perf_counter()
            with learn.no_bar():
                if 'recal' in mode: recal(learn)
                learn.fine_tune(2)
            walls.append(time.perf_counter() - t); errs.append(float(learn.validate()[1]))
            del learn, dls; gc.collect()   # a Learner is a reference cycle: collect it, or its persistent workers live on
            print(f"  {args.data} {mode} seed {seed}: err {errs[-1]:.3f} {walls[-1]:.1f}s", flush=True)
        print(f"{args.data} {mode}: err {np.mean(errs):.3f} ± {np.std(errs, ddof=1) if len(errs) > 1 else 0:.3f}  wall {np.mean(walls):.1f}s  {errs}", flush=True)


if __name__ == '__main__': main()
