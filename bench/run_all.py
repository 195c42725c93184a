"""Every benchmark in one run, then BENCHMARKS.md and bench/benchmarks.png from the results.

    bash bench/setup_peer.sh && .venv/bin/python bench/run_all.py            # all parts, then the report
    .venv/bin/python bench/run_all.py nbdev_test                              # one part again, then the report
    .venv/bin/python bench/run_all.py --report                                # only rewrite the report
    python bench/run_all.py --device cuda                                     # on a GPU: bench/device.sh runs this

Parts: dataloader (bench/dataloader.py), overhead (bench/overhead.py), fine_tune (bench/fine_tune.py: fine_tune and
lr_find), nbdev_test (the whole notebook series as CI runs it). Results go to bench/results/<part>.json; with
`--device cuda`, to bench/results/cuda/<part>.json, with fine_tune_fp16 added, and the report gains a GPU table."""
import argparse, json, os, subprocess, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import ROOT, machine

RES = ROOT/'bench'/'results'
PY = sys.executable
TEN = ['--seeds', *map(str, range(10))]          # ten seeds, so the error rates' spread means something (CPU: ~25 min)
PARTS = {
    'dataloader': [PY, 'bench/dataloader.py'],
    'overhead': [PY, 'bench/overhead.py'],
    # the generated pets' recipe: BatchNorm statistics that follow the cartoons fast (nbs/07_transfer), for both libraries
    'fine_tune': [PY, 'bench/fine_tune.py', *TEN, '--bn-momentum', '0.1'],
    # real Oxford-IIIT Pet photos (../shared/realpets), the networks' own BatchNorm settings, the issue's Resize(160)
    'fine_tune_real': [PY, 'bench/fine_tune.py', *TEN, '--data', 'real', '--item-size', '160', '--no-lr-find'],
    'dataloader_same_malloc': [PY, 'bench/dataloader.py', '--peer-malloc'],
    # fastai given petbook's malloc settings (nbs/03 keep_freed_memory): what the ratio is without that advantage
    'fine_tune_same_malloc': [PY, 'bench/fine_tune.py', '--seeds', '0', '1', '2', '--peer-malloc', '--bn-momentum', '0.1'],
}
GPU_PARTS = {                                   # the same comparisons on a GPU, fp16 added
    'dataloader': PARTS['dataloader'] + ['--device', 'cuda'],
    'overhead': PARTS['overhead'] + ['--device', 'cuda', '--reps', '10'],
    'fine_tune': PARTS['fine_tune'] + ['--device', 'cuda', '--workers', '8'],
    'fine_tune_fp16': PARTS['fine_tune'] + ['--device', 'cuda', '--workers', '8', '--fp16'],
}


def run_part(name, device='cpu'):
    res = RES/'cuda' if device == 'cuda' else RES
    res.mkdir(parents=True, exist_ok=True); out = res/f'{name}.json'
    print(f'== {name} ({device})', flush=True)
    if name == 'nbdev_test':
        env = {**os.environ, 'PATH': f"{Path(PY).parent}:{os.environ['PATH']}"}
        if device == 'cpu': env['OMP_NUM_THREADS'] = '1'
        workers = '2' if device == 'cpu' else '4'
        t = time.perf_counter()
        r = subprocess.run(['nbdev_test', '--n_workers', workers], cwd=ROOT, env=env)
        wall = time.perf_counter() - t
        if r.returncode: sys.exit(f'nbdev_test failed ({r.returncode})')
        n = len(list((ROOT/'nbs').glob('*.ipynb')))
        out.write_text(json.dumps({'machine': machine(), 'wall_s': wall, 'notebooks': n, 'workers': int(workers)}, indent=1))
        print(f'   nbdev_test --n_workers {workers}: {wall:.0f} s for {n} notebooks')
        return
    subprocess.run((GPU_PARTS if device == 'cuda' else PARTS)[name] + ['--json', str(out)], cwd=ROOT, check=True)


def rows_and_bars(R):
    "Table rows (what, petbook, peer, ratio, target, met) and chart bars from one device's results."
    rows, bars = [], []
    if 'dataloader' in R:
        d = R['dataloader']; where = ' on the GPU' if d.get('device') == 'cuda' else ''
        rows.append((f"Training DataLoader pass (Resize 460 + aug_transforms 224{where}, bs 64)", f"{d['petbook_img_s']:.1f} img/s",
                     f"{d['fastai_img_s']:.1f} img/s", f"**{d['ratio']:.2f}× faster**", '≥ 5× fastai', d['ratio'] >= 5))
        bars.append(('DataLoader\nspeed-up', d['ratio'], 5, 'higher is better'))
    if 'dataloader_same_malloc' in R:                  # a side measurement: fastai's process given petbook's malloc settings
        d = R['dataloader_same_malloc']
        rows.append(("Training DataLoader pass, fastai's process given petbook's malloc settings (`--peer-malloc`)", f"{d['petbook_img_s']:.1f} img/s",
                     f"{d['fastai_img_s']:.1f} img/s", f"**{d['ratio']:.2f}× faster**", '— (for context)', None))
    for part, tag in (('fine_tune', ''), ('fine_tune_real', ' real photos'), ('fine_tune_fp16', ' fp16')):
        if part not in R: continue
        f = R[part]; p, a = f['petbook'], f['fastai']
        real = f.get('data') == 'real'
        what = (f"{f['n_images']} real photos, Resize({f['item_size']}), validation fold seed % 5" if real
                else f"37×{f.get('n_per_breed', 30)} generated")
        what += f", BatchNorm momentum {f['bn_momentum']} for both" if f.get('bn_momentum') else (", each network's own BatchNorm momentum" if 'bn_momentum' in f else '')
        what += ', fastai on an independent Lite0' if 'bn_momentum' in f else ', fastai on petbook\'s Lite0'
        ok_err = f['err_diff'] <= f['err_spread']
        shared = 'split' in f                     # older runs scored each library on its own random validation set
        older = 'an older run: each library scored on its own random validation set'
        old, runs = ('', 'same runs') if shared else (f' ({older})', f'same runs, {older}')
        rows.append((f"`fine_tune(2)`{tag} wall time, Lite0 {f.get('size', 128)} px bs {f.get('bs', 32)}, {what}, seeds {f['seeds']}{old}",
                     f"{p['wall_mean']:.1f} ± {p['wall_sd']:.1f} s", f"{a['wall_mean']:.1f} ± {a['wall_sd']:.1f} s",
                     f"**{f['wall_ratio']:.2f}×** the time", '≤ 0.5× fastai', f['wall_ratio'] <= 0.5))
        if f.get('device') == 'cuda' and not f.get('warmup', shared):   # no untimed warm-up (it came with the shared split): seed 0 paid CUDA start-up
            warm = lambda r: sum(r['walls'][1:]) / len(r['walls'][1:])
            rows.append((f"`fine_tune(2)`{tag}, seeds after the first (the first pays CUDA/cuDNN start-up)", f"{warm(p):.1f} s",
                         f"{warm(a):.1f} s", f"**{warm(p) / warm(a):.2f}×** the time", '≤ 0.5× fastai', warm(p) / warm(a) <= 0.5))
        paired = f" (paired ± {f['err_diff_paired_se']:.3f} s.e.)" if 'err_diff_paired_se' in f else ''
        rows.append((f'`fine_tune(2)`{tag} final error rate ({runs})', f"{p['err_mean']:.3f} ± {p['err_sd']:.3f}",
                     f"{a['err_mean']:.3f} ± {a['err_sd']:.3f}", f"{f['err_diff']:+.3f}{paired}", 'no worse beyond the seed spread', ok_err))
        if f.get('lr_find_ratio'):
            rows.append((f'`lr_find()`{tag} wall time (100 iterations)', f"{p['lr_find_s']:.1f} s", f"{a['lr_find_s']:.1f} s",
                         f"**{f['lr_find_ratio']:.2f}×** the time", '—', None))
        bars.append((f'fine_tune{tag}\ntime ratio'.replace(' real photos', '\nreal photos'), f['wall_ratio'], 0.5, 'lower is better'))
        if not tag: bars.append(('lr_find\ntime ratio', f['lr_find_ratio'], None, 'lower is better'))
    if 'fine_tune_same_malloc' in R:                   # a side measurement, time only: fastai's process given petbook's malloc settings
        f = R['fine_tune_same_malloc']; p, a = f['petbook'], f['fastai']
        rows.append((f"`fine_tune(2)` wall time, fastai's process given petbook's malloc settings (`--peer-malloc`), seeds {f['seeds']}",
                     f"{p['wall_mean']:.1f} ± {p['wall_sd']:.1f} s", f"{a['wall_mean']:.1f} ± {a['wall_sd']:.1f} s",
                     f"**{f['wall_ratio']:.2f}×** the time", '— (for context)', None))
    if 'overhead' in R:
        o = R['overhead']
        rows.append((f"`Learner.fit` vs a bare PyTorch loop ({o['model']}, {o['size']} px, bs {o['bs']}, same batches)",
                     f"{o['petbook_s']:.2f} s", f"bare loop {o['bare_s']:.2f} s", f"**{o['ratio']:.3f}×**", '≤ 1.05× bare loop', o['ratio'] <= 1.05))
        bars.append(('Learner vs\nbare loop', o['ratio'], 1.05, 'lower is better'))
    if 'nbdev_test' in R:
        n = R['nbdev_test']
        rows.append((f"`nbdev_test --n_workers {n.get('workers', 2)}`, the whole series ({n['notebooks']} notebooks)", f"{n['wall_s']:.0f} s", '—',
                     f"{n['wall_s'] / 60:.1f} min", '< 5 min', n['wall_s'] < 300))
        bars.append(('nbdev_test\nminutes', n['wall_s'] / 60, 5, 'lower is better'))
    return rows, bars


def load(res):
    return {p: json.loads((res/f'{p}.json').read_text()) for p in [*PARTS, 'fine_tune_fp16', 'nbdev_test'] if (res/f'{p}.json').exists()}


def report():
    R, G = load(RES), load(RES/'cuda')
    rows, bars = rows_and_bars(R)
    grows, _ = rows_and_bars(G)

    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    fig, axs = plt.subplots(1, len(bars), figsize=(2.3 * len(bars), 3.2), squeeze=False)
    for ax, (label, v, target, how) in zip(axs[0], bars):
        good = target is None or (v >= target if how.startswith('higher') else v <= target)
        ax.bar([0], [v], color='tab:green' if good else 'tab:red', width=0.6)
        if target is not None: ax.axhline(target, ls='--', c='k', lw=1); ax.text(0.33, target, f' target {target:g}', va='bottom', fontsize=7)
        ax.text(0, v, f'{v:.2f}', ha='center', va='bottom', fontsize=9)
        ax.set_xticks([]); ax.set_title(label, fontsize=9); ax.set_xlabel(how, fontsize=7)
        ax.set_ylim(0, max(v, target or 0) * 1.25)
    fig.suptitle('petbook vs peers (ratios: petbook / peer)', fontsize=10); fig.tight_layout()
    fig.savefig(ROOT/'bench'/'benchmarks.png', dpi=110); plt.close(fig)

    m = R['fine_tune']['machine'] if 'fine_tune' in R else next(iter(R.values()))['machine'] if R else machine()
    mark = {True: '✅ met', False: '❌ missed', None: ''}
    lines = ['# Benchmarks', '',
             'Generated by `bench/run_all.py` from `bench/results/*.json` — do not edit by hand.', '',
             f'**Machine:** {m}; no GPU. Peers run one after the other in the same run, on the same files: '
             'fastai 2.8.12 on the same torch in its own venv (`bash bench/setup_peer.sh`), and a bare PyTorch loop.', '',
             '## Commands', '', '```bash', 'bash bench/setup_peer.sh', '.venv/bin/python bench/run_all.py        # all parts + this file + bench/benchmarks.png',
             '```', '', 'Each part alone: `bench/dataloader.py`, `bench/overhead.py`, `bench/fine_tune.py` (each prints its figures; '
             'their docstrings say exactly what runs).', '',
             '## CPU figures', '', '| what | petbook | peer (fastai unless said) | ratio | target | |', '|---|---|---|---|---|---|']
    lines += [f'| {a} | {b} | {c} | {d} | {e} | {mark[g]} |' for a, b, c, d, e, g in rows]
    other = {p: r['machine'] for p, r in R.items() if r.get('machine') != m}
    if other:   # parts re-run on another session's machine: say which rows, so no one compares seconds across them
        lines += ['', '**Not all rows come from the machine above.** Measured on another session\'s machine (compare ratios, not seconds): '
                  + '; '.join(f'`{p}` on {mm}' for p, mm in other.items()) + '.']
    lines += ['', '![benchmarks](bench/benchmarks.png)', '']
    if G:
        gm = next(iter(G.values()))['machine']
        lines += ['## GPU figures', '', f'**Machine:** {gm} (lent through the `device` tool; its own python3 and torch, '
                  'petbook from this checkout, fastai 2.8.12 from carried wheels). Commands: `bash bench/device.sh wheels` here, '
                  'then `bash bench/device.sh bench` there (`bench/run_all.py --device cuda`: the same scripts with `--device cuda`, '
                  'fine_tune with and without `--fp16`).', '',
                  '| what | petbook | peer (fastai unless said) | ratio | target | |', '|---|---|---|---|---|---|']
        lines += [f'| {a} | {b} | {c} | {d} | {e} | {mark[g]} |' for a, b, c, d, e, g in grows]
        lines += ['']
    (ROOT/'BENCHMARKS.md').write_text('\n'.join(lines) + '\n' + NOTES)
    print((ROOT/'BENCHMARKS.md').read_text())


NOTES = open(ROOT/'bench'/'notes.md').read() if (ROOT/'bench'/'notes.md').exists() else ''

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('parts', nargs='*'); ap.add_argument('--report', action='store_true')
    ap.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    a = ap.parse_args()
    if not a.report:
        for p in a.parts or [*(GPU_PARTS if a.device == 'cuda' else PARTS), 'nbdev_test']: run_part(p, a.device)
    report()
