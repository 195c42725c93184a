"""How fast does the book's training DataLoader go, against fastai's, and how close is it to this machine's limit?

    python -m bench.dataloader [--rounds 2] [--workers N] [--device cuda]

The pets pipeline of chapter 5: `Resize(460)` item transform, `aug_transforms(size=224, min_scale=0.75)` batch
transforms, bs 64, `--workers` DataLoader workers (default: one per core), over the generated pets (37 breeds × 40,
photo-like sizes), validated on crc32(name) % 5 == 0 (bench/recipes.py), so both libraries load the same files.
Each side runs in a fresh process: a warm-up pass (worker start, page cache), then one timed pass; `--rounds`
rounds take turns (petbook, fastai on equal terms, fastai as shipped), and the best pass of each side counts.

Each side also measures its own two ceilings on this machine, in the same process:
  decode      JPEG decode + Resize(460) of 600 files in a pool of `--workers` processes, nothing else
  batch_tfms  the batch transforms alone, on one batch already collated (on the device), repeated
and its full pass as a fraction of the lower ceiling."""
import argparse, os
from .recipes import RESULTS, SIDES, data_path, run, save

CODE = """
from concurrent.futures import ProcessPoolExecutor
import multiprocessing as mp
def decode_chunk(files):
    torch.set_num_threads(1)              # as in a DataLoader worker
    for f in files: item_resize(f, 460)
    return len(files)
files, W = get_image_files(PATH)[:600], BENCH['workers']
with ProcessPoolExecutor(W, mp_context=mp.get_context('fork')) as ex:   # before any worker or CUDA context exists
    list(ex.map(decode_chunk, [files[i:i + 2] for i in range(0, 2 * W, 2)]))
    t = time.perf_counter(); n = sum(ex.map(decode_chunk, [files[i::W] for i in range(W)])); decode = n / (time.perf_counter() - t)
dl = pets_block(460, 224).dataloaders(PATH, bs=64, num_workers=W, device=BENCH['device']).train
def one_pass():
    global n, shape; n = 0
    for xb, yb in dl: n += len(xb)
    shape = list(xb.shape)
timed(one_pass)                            # warm-up
full = n / timed(one_pass)
b = raw_batch(dl); k = 0; t = time.perf_counter()
while k < 3 or time.perf_counter() - t < 3: dl.after_batch(b); k += 1
sync(); batch_tfms = k * len(b[0]) / (time.perf_counter() - t)
print(json.dumps({'img_s': full, 'decode_img_s': decode, 'batch_tfms_img_s': batch_tfms, 'images': n, 'shape': shape}))
"""


def main(argv=None):
    "Run the comparison, print it, and write results/dataloader.json (or `--json`)."
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--rounds', type=int, default=2); ap.add_argument('--workers', type=int, default=os.cpu_count())
    ap.add_argument('--device', default='cpu', help="where the batch transforms run: 'cpu' or 'cuda'")
    ap.add_argument('--json', default=None, help='where to write the result (default: bench/results[/cuda]/dataloader.json)')
    a = ap.parse_args(argv)
    settings = dict(path=str(data_path('generated')), workers=a.workers, device=a.device)
    sides = SIDES if a.device == 'cpu' else {'petbook': ('petbook', False), 'fastai': ('fastai', False)}   # on a GPU neither sets malloc
    runs = {s: [] for s in sides}
    for r in range(a.rounds):
        for side, (lib, malloc) in sides.items():
            runs[side].append(run(lib, CODE, settings, malloc=malloc))
            x = runs[side][-1]
            print(f"round {r}  {side:15s} {x['img_s']:7.1f} img/s   ceilings: decode {x['decode_img_s']:.0f}, "
                  f"batch transforms {x['batch_tfms_img_s']:.0f} img/s   load {x['load']}", flush=True)
    res = {'device': a.device, 'workers': a.workers, 'bs': 64, 'item_size': 460, 'size': 224, 'runs': runs}
    for side, rs in runs.items():
        best = max(rs, key=lambda x: x['img_s']); lower = min(best['decode_img_s'], best['batch_tfms_img_s'])
        res[side] = {**best, 'fraction_of_ceiling': best['img_s'] / lower}
        print(f"{side:15s} best {best['img_s']:7.1f} img/s = {best['img_s'] / lower:.0%} of its lower ceiling ({lower:.0f} img/s)")
    for side in [s for s in sides if s != 'petbook']:
        res[f'ratio_{side}'] = res['petbook']['img_s'] / res[side]['img_s']
        print(f"petbook / {side}: {res[f'ratio_{side}']:.2f}x  (target >= 5x on equal terms)")
    save(res, a.json or RESULTS/('cuda' if a.device == 'cuda' else '')/'dataloader.json')
    return res


if __name__ == '__main__': main()
