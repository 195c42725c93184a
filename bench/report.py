"""BENCHMARKS.md and bench/benchmarks.png from bench/results (and bench/notes.md), without running anything.

    python -m bench.report

Every CPU ratio is given twice: against fastai on equal terms (its process given petbook's malloc setting: the
headline, and what the targets apply to) and against fastai as shipped. On a GPU neither library sets it."""
import json
from .recipes import FASTAI_VERSION, RESULTS, ROOT

TARGETS = {'dataloader': ('≥ 5×', lambda r: r >= 5), 'fine_tune': ('≤ 0.45×', lambda r: r <= 0.45),
           'lr_find': ('≤ 0.5×', lambda r: r <= 0.5), 'overhead': ('≤ 1.05× bare loop', lambda r: r <= 1.05),
           'nbdev_test': ('< 2 min', lambda m: m < 2)}
MARK = {True: '✅ met', False: '❌ missed', None: ''}


def rate(v): return f"{v:,.0f} img/s" if v >= 100 else f"{v:.1f} img/s"


def load(res):
    "Every result in `res`, by part name."
    return {p.stem: json.loads(p.read_text()) for p in sorted(res.glob('*.json'))}


def when(r):
    "The date a result was measured and the range of the machine's 1-minute load average over its runs (shared cores)."
    loads = [x['load'][0] for rs in r.get('runs', {}).values() for x in rs if x.get('load')] or ([r['load'][0]] if r.get('load') else [])
    span = '' if not loads else f"{loads[0]:.1f}" if min(loads) == max(loads) else f"{min(loads):.1f}–{max(loads):.1f}"
    return r.get('date', '?')[:10] + (f", load {span} at the end" if len(loads) == 1 else f", load {span}" if loads else '')


def ft_desc(f):
    "What a fine_tune result trained on, in a few words."
    what = (f"{f['n_images']} real photos, Resize({f['item_size']}), validation fold seed % 5" if f.get('data') == 'real'
            else f"37×30 generated, Resize({f['item_size']})")
    if f.get('independent_lite0') is False: what += ", fastai on petbook's Lite0 port of that day"
    else: what += (f", BatchNorm momentum {f['bn_momentum']} for both" if f.get('bn_momentum') else ", each network's own BatchNorm momentum") + \
        ', fastai on an independent Lite0'
    return f"Lite0 {f['size']} px bs {f['bs']}, {what}" + (', fp16' if f.get('fp16') else '')


def rows(R):
    "Table rows: what, petbook, fastai (equal terms), ratio, target, met, fastai as shipped, ratio as shipped, measured."
    out, none = [], ('—', '—')
    shipped = lambda r, side, fmt: (fmt(r[side]), '') if side in r else none
    if 'dataloader' in R:
        d = R['dataloader']; gpu = ' on the GPU' if d['device'] == 'cuda' else ''
        eq = d.get('ratio_fastai')
        sh = (rate(d['fastai_shipped']['img_s']), f"{d['ratio_fastai_shipped']:.2f}×") if 'fastai_shipped' in d else none
        out.append((f"Training DataLoader pass{gpu} (Resize 460 + aug_transforms 224, bs 64, {d['workers']} workers)",
                    rate(d['petbook']['img_s']), rate(d['fastai']['img_s']), f"**{eq:.2f}× faster**",
                    TARGETS['dataloader'][0], TARGETS['dataloader'][1](eq), *sh, when(d)))
    for part, tag in (('fine_tune', ''), ('fine_tune_fp16', ' fp16'), ('fine_tune_real', ' real photos')):
        if part not in R: continue
        f = R[part]; eq, sh = f.get('fastai'), f.get('fastai_shipped')
        t = lambda c, s: f"{c[s]['wall_mean']:.1f} ± {c[s]['wall_sd']:.1f} s"
        e = lambda c, s: f"{c[s]['err_mean']:.3f} ± {c[s]['err_sd']:.3f}"
        seeds = lambda c: f"{len(c['seeds'])} seeds" if c else ''
        ref = eq or sh
        what = f"`fine_tune(2)`{tag} wall time, {ft_desc(f)}; {seeds(eq) or 'equal terms not measured'}" + (f" ({seeds(sh)} as shipped)" if sh else '')
        out.append((what, t(ref, 'petbook'), t(eq, 'fastai') if eq else '—', f"**{eq['wall_ratio']:.2f}×** the time" if eq else '—',
                    TARGETS['fine_tune'][0], TARGETS['fine_tune'][1](eq['wall_ratio']) if eq else None,
                    t(sh, 'fastai_shipped') if sh else '—', f"{sh['wall_ratio']:.2f}×" if sh else '—', when(f)))
        err = lambda c, s: f"{c['err_diff']:+.3f} (paired s.e. {c['err_diff_paired_se']:.3f})"
        out.append((f"`fine_tune(2)`{tag} error rate (same runs, same validation files)", e(ref, 'petbook'),
                    e(eq, 'fastai') if eq else '—', err(eq, 'fastai') if eq else '—', 'no worse beyond the seed spread',
                    eq['err_diff'] <= eq['err_spread'] if eq else None,
                    e(sh, 'fastai_shipped') if sh else '—', err(sh, 'fastai_shipped') if sh else '—', ''))
    for part, tag in (('lr_find', ''), ('lr_find_fp16', ' fp16')):
        if part not in R: continue
        f = R[part]; eq, sh = f.get('fastai'), f.get('fastai_shipped')
        s = lambda c, k: (f"{c[k]['wall_mean']:.1f} ± {c[k]['wall_sd']:.1f} s" if len(c['seeds']) > 1 else f"{c[k]['wall_mean']:.1f} s") if c else '—'
        n = lambda c: f"{len(c['seeds'])} seed{'s' if len(c['seeds']) > 1 else ''}"
        its = {k: sorted({r['iterations'] for r in rs if 'iterations' in r}) for k, rs in f.get('runs', {}).items()}
        span = lambda v: f"{v[0]}–{v[-1]}" if len(v) > 1 else f"{v[0]}"
        ran = '; '.join(f"{k} {span(v)}" for k, v in its.items() if v)     # stop_div ends a finder when its loss diverges
        out.append((f"`lr_find()`{tag} wall time (up to 100 iterations{f' — ran {ran}' if ran else ''}; the fine_tune recipe; "
                    + (n(eq) if eq else 'equal terms not measured')
                    + (f", {n(sh)} as shipped" if sh else '') + ')',
                    s(eq or sh, 'petbook'), s(eq, 'fastai'), f"**{eq['wall_ratio']:.2f}×** the time" if eq else '—', TARGETS['lr_find'][0],
                    TARGETS['lr_find'][1](eq['wall_ratio']) if eq else None,
                    s(sh, 'fastai_shipped'), f"{sh['wall_ratio']:.2f}×" if sh else '—', when(f)))
    if 'overhead' in R:
        o = R['overhead']
        out.append((f"`Learner.fit` vs a bare PyTorch loop ({o['model']}, {o['size']} px, bs {o['bs']}, same batches; no fastai)",
                     f"{o['petbook_s']:.2f} s", f"bare loop {o['bare_s']:.2f} s", f"**{o['ratio']:.3f}×**",
                     TARGETS['overhead'][0], TARGETS['overhead'][1](o['ratio']), '', '', when(o)))
    if 'nbdev_test' in R:
        n = R['nbdev_test']
        out.append((f"`nbdev_test --n_workers {n['workers']}`, the whole series ({n['notebooks']} notebooks)", f"{n['wall_s']:.0f} s", '—',
                    f"{n['wall_s'] / 60:.1f} min", TARGETS['nbdev_test'][0], TARGETS['nbdev_test'][1](n['wall_s'] / 60), '', '', when(n)))
    return out


def table(R, gpu=False):
    "The markdown table of one device's results."
    eq = 'fastai' if gpu else 'fastai, equal terms'
    head = (f"| what | petbook | {eq} | ratio | target | | fastai as shipped | ratio as shipped | measured |\n"
            "|---|---|---|---|---|---|---|---|---|")
    return [head] + [f"| {a} | {b} | {c} | {d} | {e} | {MARK[g]} | {h} | {i} | {j} |" for a, b, c, d, e, g, h, i, j in rows(R)]


def ceilings(R):
    "Item 3: each DataLoader figure against the two ceilings its own process measured."
    if 'dataloader' not in R: return []
    d = R['dataloader']
    out = [f"| {d['device'].upper()}, {d['workers']} workers | full pass | decode + Resize(460), {d['workers']} processes | "
           "batch transforms alone | full pass / lower ceiling |", '|---|---|---|---|---|']
    for side in ('petbook', 'fastai', 'fastai_shipped'):
        s = d.get(side)
        if not s: continue
        dec, bt = s.get('decode_img_s'), s.get('batch_tfms_img_s')
        f = lambda v: rate(v) if v else 'not measured'
        frac = f"**{s['fraction_of_ceiling']:.0%}**" if s.get('fraction_of_ceiling') else '—'
        name = {'petbook': 'petbook', 'fastai': 'fastai, equal terms' if d['device'] == 'cpu' else 'fastai', 'fastai_shipped': 'fastai as shipped'}[side]
        out.append(f"| {name} | {rate(s['img_s'])} | {f(dec)} | {f(bt)} | {frac} |")
    return out


FASTAI_BARS = {'DataLoader', 'fine_tune', 'lr_find', 'fine_tune real'}


def chart(R):
    "bench/benchmarks.png: each ratio on equal terms (solid) beside fastai as shipped (hatched), with its target."
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    bars = []
    if 'dataloader' in R:
        d = R['dataloader']; bars.append(('DataLoader\nspeed-up ×', d['ratio_fastai'], d.get('ratio_fastai_shipped'), 5, True))
    for part, label in (('fine_tune', 'fine_tune\ntime ratio'), ('lr_find', 'lr_find\ntime ratio'), ('fine_tune_real', 'fine_tune real\ntime ratio')):
        if part in R:
            f = R[part]; eq, sh = f.get('fastai'), f.get('fastai_shipped')
            bars.append((label, eq['wall_ratio'] if eq else None, sh['wall_ratio'] if sh else None, 0.5 if 'lr' in part else 0.45, False))
    if 'overhead' in R: bars.append(('Learner vs\nbare loop', R['overhead']['ratio'], None, 1.05, False))
    if 'nbdev_test' in R: bars.append(('nbdev_test\nminutes', R['nbdev_test']['wall_s'] / 60, None, 2, False))
    fig, axs = plt.subplots(1, len(bars), figsize=(2.2 * len(bars), 3.3), squeeze=False)
    for ax, (label, eq, sh, target, higher) in zip(axs[0], bars):
        v = eq if eq is not None else sh
        good = v >= target if higher else v <= target
        if eq is None: ax.text(0, 0, 'equal terms\nnot measured', ha='center', va='bottom', fontsize=7)
        else:
            ax.bar([0], [eq], color='tab:green' if good else 'tab:red', width=0.6); ax.text(0, eq / 2, f'{eq:.2f}', ha='center', va='center', fontsize=9, color='white', weight='bold')
        if sh is not None:
            ax.bar([0.7], [sh], color='white', edgecolor='grey', hatch='//', width=0.5); ax.text(0.7, sh / 2, f'{sh:.2f}', ha='center', va='center', fontsize=8, color='dimgrey', backgroundcolor='white')
        ax.axhline(target, ls='--', c='k', lw=1); ax.text(1.08, target, f'target {target:g}', ha='right', va='bottom', fontsize=7)
        ticks = [(0, 'equal\nterms' if label.split('\n')[0] in FASTAI_BARS else '')] * (eq is not None) + [(0.7, 'as\nshipped')] * (sh is not None)
        ax.set_xticks([t for t, _ in ticks]); ax.set_xticklabels([l for _, l in ticks], fontsize=7)
        ax.set_title(label, fontsize=9); ax.set_xlabel('higher is better' if higher else 'lower is better', fontsize=7)
        ax.set_ylim(0, max(v for v in (eq, sh, target) if v is not None) * 1.25); ax.set_xlim(-0.5, 1.1)
    fig.suptitle('petbook / fastai on this CPU (solid: fastai given petbook\'s malloc setting; hatched: fastai as shipped)', fontsize=9)
    fig.tight_layout(); fig.savefig(ROOT/'bench'/'benchmarks.png', dpi=110); plt.close(fig)


def distributed(R, G):
    "The section on training in several processes (bench/distributed.py), from results/distributed.json."
    L = ['## Training in several processes (torch.distributed)', '',
         'The same recipe (`vision_learner(dls, efficientnet_lite0).fine_tune(1)`, generated pets, one global batch split '
         'across the processes) in 1 process and in N under torchrun (threads per process as the table says: `--threads`, by default cores/N) '
         '(`python -m bench.distributed`, nbs/94_distributed). On a 2-core CPU two processes share the cores one process '
         'already uses: they are not a speed-up worth having, and are for checking that a script runs correctly under '
         'torchrun before it goes to a machine with several GPUs. The GPU row waits for a lent machine with two GPUs or more '
         '(`bash bench/device.sh bench` runs this part).', '']
    rows = [('CPU', R.get('distributed'))] + ([('GPU', G.get('distributed'))] if G.get('distributed') else [])
    if not any(r for _, r in rows): return L + ['Not measured yet.', '']
    L += ['| device | processes × threads | fine_tune | whole launch (with start-up) | error rate | speed-up vs 1 process | measured |',
          '|---|---|---|---|---|---|---|']
    for dev, r in rows:
        for x in (r or {}).get('procs', []):
            L.append(f"| {dev} | {x['nproc']} × {x['threads']} | {x['fine_tune_s']:.1f} s | {x['launch_s']:.1f} s | {x['error_rate']:.3f} | "
                     f"{x['speedup_vs_first']:.2f}× | {when(r)} |")
    return L + ['']


def main():
    "Write BENCHMARKS.md and bench/benchmarks.png from bench/results."
    R, G = load(RESULTS), load(RESULTS/'cuda')
    chart(R)
    machines = sorted({r['machine'] for r in R.values()})
    L = ['# Benchmarks', '', 'Generated by `python -m bench.report` from `bench/results/*.json` (`python -m bench.run_all` measures, then '
         'calls it) — do not edit by hand. Which script answers which question, and how to rerun each: [bench/README.md](bench/README.md).', '',
         f"**Peers:** fastai {FASTAI_VERSION} on the same torch in its own venv (`bash bench/setup_peer.sh`), training an independent "
         "EfficientNet-Lite0 (the `efficientnet_lite_pytorch` package's network, the same ImageNet weights file); a bare PyTorch loop. "
         "Each side runs in a fresh process, the sides take turns (per seed, per pass), on the same files and validation split.", '',
         "**Equal terms:** petbook asks glibc to keep freed memory for reuse (`keep_freed_memory`, nbs/93_fast) in every CPU "
         "process that loads data or trains; fastai doesn't. The headline ratios give fastai's process the same call (`mallopt`, "
         "through ctypes, before anything else): the targets apply to them. fastai as shipped is beside them for context.", '',
         f"**CPU machine{'s' if len(machines) > 1 else ''}:** " + '; '.join(machines) + '. The 2 cores are shared with other jobs: '
         'each row says when it was measured and the 1-minute load average then; compare ratios, not seconds.', '',
         '## CPU figures', ''] + table(R) + ['', '![benchmarks](bench/benchmarks.png)', '']
    if ceil := ceilings(R):
        L += ['### Distance to the machine\'s limit (DataLoader)', '', 'Each side measures, in its own process, the two '
              'ceilings its pass cannot beat: JPEG decode + the item resize in a pool of as many processes as the DataLoader has '
              'workers (nothing else), and its batch transforms alone on one collated batch (nothing loading). A full pass runs '
              'both at once on the same cores.', ''] + ceil + ['']
    L += distributed(R, G)
    if G:
        L += ['## GPU figures', '', f"**Machine:** {G[next(iter(G))]['machine']} (lent through the `device` tool). Measured "
              f"{', '.join(sorted({r.get('date', '?')[:10] for r in G.values()}))} on the code of that day; the next lent GPU refreshes "
              "them with `bash bench/device.sh bench` (`python -m bench.run_all --device cuda`). On a GPU neither library sets the "
              "malloc option, so fastai as shipped is on equal terms.", ''] + table(G, gpu=True) + [''] + ceilings(G) + ['']
    notes = (ROOT/'bench'/'notes.md').read_text() if (ROOT/'bench'/'notes.md').exists() else ''
    (ROOT/'BENCHMARKS.md').write_text('\n'.join(L) + '\n' + notes)
    print('\n'.join(L))


if __name__ == '__main__': main()
