"""How long does the book's transfer-learning recipe take against fastai's, and is its error as good?

    python -m bench.fine_tune [--seeds 0 … 9] [--shipped-seeds 0 1 2] [--data real] [--bn-momentum 0.1]
    python -m bench.fine_tune --lr-find [--seeds 0 1 2] # lr_find() per seed and side instead
    python -m bench.fine_tune --device cuda --workers 8 [--fp16]     # on a GPU (bench/device.sh)

`vision_learner(dls, efficientnet_lite0, metrics=error_rate).fine_tune(2)`, one seed per process, the sides taking
turns per seed (petbook, fastai on equal terms, and for `--shipped-seeds` fastai as shipped), so a change in the
machine's load hits all of them. The seed sets Python's, NumPy's and torch's generators (the head's initialisation,
the augmentation, the shuffling) and, with `--data real`, the validation fold.

Data (bench/recipes.py): `--data generated`: the drawn pets, 37 breeds × 30, validated on crc32(name) % 5 == 0;
`--data real`: the 483 Oxford-IIIT Pet photos in ../shared/realpets, fold seed % 5 (ten seeds validate every photo
twice). `Resize(192)` (`--item-size`), `aug_transforms(size=128, min_scale=0.75)`, bs 32, 2 workers.

The networks are independent: petbook trains its own EfficientNet-Lite0 port, fastai the `efficientnet_lite_pytorch`
package's network with the same ImageNet weights file, its own head and default parameter groups. `--bn-momentum`
gives both bodies the same BatchNorm momentum (the generated pets' recipe: 0.1, nbs/07_transfer); by default each
keeps the network's own (0.01). `--fp16`: `learn.to_fp16()` for both; `--memory-format`: both models contiguous or
both channels-last (a diagnostic for the GPU's fp16 error gap); `--aug`: extra aug_transforms arguments as JSON."""
import argparse, json, statistics
from pathlib import Path
from .recipes import RESULTS, SIDES, data_path, run, save

CODE = """
def make(dls):
    learn = vision_learner(dls, efficientnet_lite0, metrics=error_rate)
    if BENCH['bn_momentum'] is not None:             # the recipe's setting, applied alike to both bodies
        for m in learn.model[0].modules():
            if isinstance(m, torch.nn.BatchNorm2d): m.momentum = BENCH['bn_momentum']
    if BENCH['layout'] != 'own':
        learn.model.to(memory_format={'contiguous': torch.contiguous_format, 'channels_last': torch.channels_last}[BENCH['layout']])
    return learn.to_fp16() if BENCH['fp16'] else learn
seed = BENCH['seed']
dls = pets_block(BENCH['item_size'], BENCH['size'], fold=seed % 5 if BENCH['data'] == 'real' else 0, **BENCH['aug']).dataloaders(
    PATH, bs=BENCH['bs'], num_workers=BENCH['workers'], device=BENCH['device'])
if BENCH['device'] == 'cuda':                        # untimed: CUDA context, cuDNN and the workers start here, not in the timing
    warm = make(dls)
    with quiet(warm): warm.fit(1)
    del warm; gc.collect()
seed_everything(seed)
learn = make(dls)
with quiet(learn):
    if BENCH['lr_find']:
        import warnings; warnings.simplefilter('ignore')
        wall = timed(lambda: learn.lr_find(show_plot=False)); out = {'iterations': len(getattr(learn, 'lr_finder', learn.recorder).lrs)}   # stop_div may end it early
    else:
        wall = timed(lambda: learn.fine_tune(2)); out = {'error_rate': float(learn.validate()[1])}
print(json.dumps({'seed': seed, 'wall_s': wall, **out}))
"""


def summary(runs, seeds):
    "Mean and spread of the walls and errors of `runs` over `seeds`."
    rs = [r for r in runs if r['seed'] in seeds]
    walls, errs = [r['wall_s'] for r in rs], [r['error_rate'] for r in rs if 'error_rate' in r]
    sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.
    s = {'seeds': [r['seed'] for r in rs], 'wall_mean': statistics.mean(walls), 'wall_sd': sd(walls)}
    if errs: s.update(err_mean=statistics.mean(errs), err_sd=sd(errs))
    return s


def compare(runs, side):
    "petbook against `side` over the seeds both ran: time ratio; error difference, its paired standard error, the spread."
    seeds = sorted({r['seed'] for r in runs[side]} & {r['seed'] for r in runs['petbook']})
    p, f = summary(runs['petbook'], seeds), summary(runs[side], seeds)
    c = {'seeds': seeds, 'petbook': p, side: f, 'wall_ratio': p['wall_mean'] / f['wall_mean']}
    if 'err_mean' in p:
        by = lambda rs: {r['seed']: r['error_rate'] for r in rs}
        d = [by(runs['petbook'])[s] - by(runs[side])[s] for s in seeds]
        c.update(err_diff=p['err_mean'] - f['err_mean'], err_spread=max(p['err_sd'], f['err_sd']),
                 err_diff_paired_se=statistics.stdev(d) / len(d) ** .5 if len(d) > 1 else 0.)
    return c


def main(argv=None):
    "Run the seeds (or lr_find), print each as it ends, and write results/<name>.json."
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--shipped-seeds', type=int, nargs='*', default=None, help="seeds fastai also runs as shipped (default: all)")
    ap.add_argument('--lr-find', action='store_true', help="time lr_find() (per seed and side) instead of fine_tune(2)")
    ap.add_argument('--data', default='generated', choices=['generated', 'real'])
    ap.add_argument('--n-per-breed', type=int, default=30)
    ap.add_argument('--device', default='cpu'); ap.add_argument('--fp16', action='store_true')
    ap.add_argument('--size', type=int, default=128); ap.add_argument('--item-size', type=int, default=192)
    ap.add_argument('--bs', type=int, default=32); ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--bn-momentum', type=float, default=None)
    ap.add_argument('--memory-format', default='own', choices=['own', 'contiguous', 'channels_last'])
    ap.add_argument('--aug', type=json.loads, default={}, help="extra aug_transforms arguments, as JSON")
    ap.add_argument('--name', default=None, help="the result's name in bench/results (default: fine_tune or lr_find)")
    ap.add_argument('--json', default=None)
    a = ap.parse_args(argv)
    import torch
    settings = dict(path=str(data_path(a.data, a.n_per_breed) if a.data == 'generated' else data_path('real')), data=a.data,
                    threads=torch.get_num_threads(), item_size=a.item_size, size=a.size, bs=a.bs, workers=a.workers,
                    device=a.device, fp16=a.fp16, aug=a.aug, layout=a.memory_format, bn_momentum=a.bn_momentum, lr_find=a.lr_find)
    shipped = set(a.seeds if a.shipped_seeds is None else a.shipped_seeds)
    sides = SIDES if a.device == 'cpu' else {'petbook': ('petbook', False), 'fastai': ('fastai', False)}   # on a GPU neither sets malloc
    runs = {s: [] for s in sides}
    name = a.name or ('lr_find' if a.lr_find else 'fine_tune')
    out = a.json or RESULTS/('cuda' if a.device == 'cuda' else '')/f'{name}.json'
    res = {'device': a.device, **{k: v for k, v in settings.items() if k not in ('path', 'threads')}, 'n_images': len(list(Path(settings['path']).glob('*.jpg'))), 'runs': runs}
    for seed in a.seeds:
        for side, (lib, malloc) in sides.items():
            if side == 'fastai_shipped' and seed not in shipped: continue
            runs[side].append(run(lib, CODE, {**settings, 'seed': seed}, malloc=malloc))
            r = runs[side][-1]
            print(f"seed {seed}  {side:15s} {r['wall_s']:6.1f} s" + (f"  error {r['error_rate']:.3f}" if 'error_rate' in r else '')
                  + (f"  {r['iterations']} iterations" if 'iterations' in r else '') + f"   load {r['load']}", flush=True)
        res.update({side: compare(runs, side) for side in runs if side != 'petbook' and runs[side]})
        save(res, out)                            # after every seed: a run cut short keeps what it measured
    for side in runs:
        if side == 'petbook': continue
        c = res[side]
        print(f"petbook / {side} over seeds {c['seeds']}: time {c['wall_ratio']:.2f}x" +
              (f", error {c['petbook']['err_mean']:.3f} vs {c[side]['err_mean']:.3f} ({c['err_diff']:+.3f}, paired s.e. "
               f"{c['err_diff_paired_se']:.3f}, spread {c['err_spread']:.3f})" if 'err_diff' in c else ''))
    return res


if __name__ == '__main__': main()
