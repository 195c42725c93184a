"""Every benchmark in one run, then BENCHMARKS.md and bench/benchmarks.png from the results.

    bash bench/setup_peer.sh && .venv/bin/python bench/run_all.py            # all parts, then the report
    .venv/bin/python bench/run_all.py nbdev_test                              # one part again, then the report
    .venv/bin/python bench/run_all.py --report                                # only rewrite the report

Parts: dataloader (bench/dataloader.py), overhead (bench/overhead.py), fine_tune (bench/fine_tune.py: fine_tune and
lr_find), nbdev_test (the whole notebook series as CI runs it). Results go to bench/results/<part>.json."""
import argparse, json, os, subprocess, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import ROOT, machine

RES = ROOT/'bench'/'results'
PY = sys.executable
PARTS = {
    'dataloader': [PY, 'bench/dataloader.py'],
    'overhead': [PY, 'bench/overhead.py'],
    'fine_tune': [PY, 'bench/fine_tune.py'],
}


def run_part(name):
    RES.mkdir(parents=True, exist_ok=True); out = RES/f'{name}.json'
    print(f'== {name}', flush=True)
    if name == 'nbdev_test':
        env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PATH': f"{Path(PY).parent}:{os.environ['PATH']}"}
        t = time.perf_counter()
        r = subprocess.run(['nbdev_test', '--n_workers', '2'], cwd=ROOT, env=env)
        wall = time.perf_counter() - t
        if r.returncode: sys.exit(f'nbdev_test failed ({r.returncode})')
        n = len(list((ROOT/'nbs').glob('*.ipynb')))
        out.write_text(json.dumps({'machine': machine(), 'wall_s': wall, 'notebooks': n}, indent=1))
        print(f'   nbdev_test --n_workers 2: {wall:.0f} s for {n} notebooks')
        return
    subprocess.run(PARTS[name] + ['--json', str(out)], cwd=ROOT, check=True)


def report():
    R = {p: json.loads((RES/f'{p}.json').read_text()) for p in [*PARTS, 'nbdev_test'] if (RES/f'{p}.json').exists()}
    rows, bars = [], []
    if 'dataloader' in R:
        d = R['dataloader']
        rows.append(('Training DataLoader pass (Resize 460 + aug_transforms 224, bs 64)', f"{d['petbook_img_s']:.1f} img/s",
                     f"{d['fastai_img_s']:.1f} img/s", f"**{d['ratio']:.2f}× faster**", '≥ 5× fastai', d['ratio'] >= 5))
        bars.append(('DataLoader\nspeed-up', d['ratio'], 5, 'higher is better'))
    if 'fine_tune' in R:
        f = R['fine_tune']; p, a = f['petbook'], f['fastai']
        ok_err = f['err_diff'] <= f['err_spread']
        rows.append((f"`fine_tune(2)` wall time, Lite0 128 px bs 32, 37×30, seeds {f['seeds']}",
                     f"{p['wall_mean']:.1f} ± {p['wall_sd']:.1f} s", f"{a['wall_mean']:.1f} ± {a['wall_sd']:.1f} s",
                     f"**{f['wall_ratio']:.2f}×** the time", '≤ 0.5× fastai', f['wall_ratio'] <= 0.5))
        rows.append(('`fine_tune(2)` final error rate (same runs)', f"{p['err_mean']:.3f} ± {p['err_sd']:.3f}",
                     f"{a['err_mean']:.3f} ± {a['err_sd']:.3f}", f"{f['err_diff']:+.3f}", 'no worse beyond the seed spread', ok_err))
        rows.append(('`lr_find()` wall time (100 iterations)', f"{p['lr_find_s']:.1f} s", f"{a['lr_find_s']:.1f} s",
                     f"**{f['lr_find_ratio']:.2f}×** the time", '—', None))
        bars.append(('fine_tune\ntime ratio', f['wall_ratio'], 0.5, 'lower is better'))
        bars.append(('lr_find\ntime ratio', f['lr_find_ratio'], None, 'lower is better'))
    if 'overhead' in R:
        o = R['overhead']
        rows.append((f"`Learner.fit` vs a bare PyTorch loop ({o['model']}, {o['size']} px, bs {o['bs']}, same batches)",
                     f"{o['petbook_s']:.2f} s", f"bare loop {o['bare_s']:.2f} s", f"**{o['ratio']:.3f}×**", '≤ 1.05× bare loop', o['ratio'] <= 1.05))
        bars.append(('Learner vs\nbare loop', o['ratio'], 1.05, 'lower is better'))
    if 'nbdev_test' in R:
        n = R['nbdev_test']
        rows.append((f"`nbdev_test --n_workers 2`, the whole series ({n['notebooks']} notebooks)", f"{n['wall_s']:.0f} s", '—',
                     f"{n['wall_s'] / 60:.1f} min", '< 5 min', n['wall_s'] < 300))
        bars.append(('nbdev_test\nminutes', n['wall_s'] / 60, 5, 'lower is better'))

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

    m = next(iter(R.values()))['machine'] if R else machine()
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
    lines += ['', '![benchmarks](bench/benchmarks.png)', '']
    (ROOT/'BENCHMARKS.md').write_text('\n'.join(lines) + NOTES)
    print((ROOT/'BENCHMARKS.md').read_text())


NOTES = open(ROOT/'bench'/'notes.md').read() if (ROOT/'bench'/'notes.md').exists() else ''

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('parts', nargs='*'); ap.add_argument('--report', action='store_true')
    a = ap.parse_args()
    if not a.report:
        for p in a.parts or [*PARTS, 'nbdev_test']: run_part(p)
    report()
