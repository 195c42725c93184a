"""The book's pets pipeline, one full pass of the training DataLoader: petbook vs fastai 2.8.12, same files, one run.

    bash bench/setup_peer.sh && .venv/bin/python bench/dataloader.py
    python bench/dataloader.py --device cuda          # on a GPU: the batch transforms run there (bench/device.sh)

Resize(460) item transform, aug_transforms(size=224, min_scale=0.75) batch transforms, bs 64, CPU, workers = cores,
over the generated pets (37 breeds × 40, photo-like sizes). Prints images/s for each, the ratio, and petbook's rate
as a fraction of the decode-only limit (JPEG decode + Resize(460) on every core, nothing else)."""
import argparse, json, os, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import SAME_MALLOC, decode_resize, machine, pets_path, run_peer

ap = argparse.ArgumentParser()
ap.add_argument('--reps', type=int, default=2); ap.add_argument('--workers', type=int, default=os.cpu_count())
ap.add_argument('--device', default='cpu', help="where the batch transforms run: 'cpu' or 'cuda'")
ap.add_argument('--peer-malloc', action='store_true', help="give fastai's process petbook's malloc settings (keep_freed_memory, nbs/03)")
ap.add_argument('--json', type=str, default=None, help='also write the results here')
args = ap.parse_args()

path = pets_path()/'images'
BLOCK = """
pets = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, splitter=RandomSplitter(seed=42),
                 get_y=using_attr(RegexLabeller(r'(.+)_\\d+.jpg$'), 'name'),
                 item_tfms=Resize(460), batch_tfms=aug_transforms(size=224, min_scale=0.75))
dls = pets.dataloaders(PATH, bs=64, num_workers=WORKERS, device=DEVICE)
rates = []
for rep in range(REPS + 1):                      # the first pass warms up (worker start, page cache)
    t = time.perf_counter(); n = 0
    for xb, yb in dls.train: n += len(xb)
    if DEVICE == 'cuda': torch.cuda.synchronize()
    if rep: rates.append(n / (time.perf_counter() - t))
print(json.dumps({'rates': rates, 'n': n, 'shape': list(xb.shape)}))
"""
code = (BLOCK.replace('PATH', repr(str(path))).replace('WORKERS', str(args.workers)).replace('REPS', str(args.reps))
            .replace('DEVICE', repr(args.device)))

import torch
from petbook.all import *
ns = {}
exec("import time, json, torch\nfrom petbook.all import *\n" + code.replace("print(json.dumps", "_out = (json.dumps"), ns)
pb = json.loads(json.dumps({'rates': ns['rates'], 'n': ns['n']}))
fa = run_peer('import time, json, torch\nfrom fastai.vision.all import *\n' + code, env_extra=SAME_MALLOC if args.peer_malloc else None)

# the decode-only limit: JPEG decode + Resize(460) alone, on all cores
from concurrent.futures import ProcessPoolExecutor
files = get_image_files(path)[:600]
chunks = [files[i::args.workers] for i in range(args.workers)]
with ProcessPoolExecutor(args.workers) as ex:
    list(ex.map(decode_resize, [c[:5] for c in chunks]))
    t = time.perf_counter(); n = sum(ex.map(decode_resize, chunks)); limit = n / (time.perf_counter() - t)

p, f = max(pb['rates']), max(fa['rates'])
res = {'machine': machine(), 'device': args.device, 'workers': args.workers, 'peer_malloc': args.peer_malloc, 'petbook_img_s': p, 'fastai_img_s': f, 'ratio': p / f, 'decode_limit_img_s': limit,
       'fraction_of_limit': p / limit, 'petbook_all': pb['rates'], 'fastai_all': fa['rates'], 'images_per_pass': pb['n']}
print(f"machine: {res['machine']}")
print(f"training DataLoader pass on {args.device}, {pb['n']} images, bs 64, Resize(460) + aug_transforms(224, min_scale=0.75):")
print(f"  petbook : {p:7.1f} img/s   (passes: {', '.join(f'{r:.1f}' for r in pb['rates'])})")
print(f"  fastai  : {f:7.1f} img/s   (passes: {', '.join(f'{r:.1f}' for r in fa['rates'])})")
print(f"  ratio   : {p / f:.2f}x  (target >= 5x)")
print(f"  decode + Resize(460) only, {args.workers} processes: {limit:.1f} img/s; petbook runs at {p / limit:.0%} of it")
if args.json: Path(args.json).write_text(json.dumps(res, indent=1))
