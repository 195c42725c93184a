"""Draw the small picture of each notebook that the front page's notebook map shows (nbs/images/thumbs/*.png).

    .venv/bin/python tools/make_thumbnails.py                     # all of them, offline
    .venv/bin/python tools/make_thumbnails.py 92_models 95_cli    # only these (the ones that need no trained learner)

Every picture is made by petbook itself from the generated data — the same functions the notebooks teach — so
the map shows what each notebook really produces. One small Lite0 learner (6 breeds, 64 px) is trained once and
supplies the loss curve (05), the LR finder (06), the fine_tune schedule (07), the confusion matrix (09) and a
prediction (12). Deterministic apart from float rounding; rerun it when a notebook's subject changes."""
import os, sys, tempfile
from pathlib import Path
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT/'nbs'/'images'/'thumbs'
SIZE, DPI = (2.4, 1.6), 75                      # 180 × 120 px


def thumb(name):
    "A decorator: the function draws on a fresh figure, which is saved as `OUT/name.png`."
    def deco(f):
        def run(*a):
            fig = plt.figure(figsize=SIZE, dpi=DPI)
            f(fig, *a)
            fig.savefig(OUT/f'{name}.png', dpi=DPI); plt.close(fig); print('wrote', OUT/f'{name}.png')
        return run
    return deco


def small_axes(ax):
    ax.tick_params(labelsize=5, length=2, pad=1)
    for s in ('top', 'right'): ax.spines[s].set_visible(False)


def image_grid(fig, imgs, titles, rows=2):
    cols = -(-len(imgs) // rows)
    for i, (im, t) in enumerate(zip(imgs, titles)):
        ax = fig.add_subplot(rows, cols, i + 1); ax.imshow(im); ax.axis('off'); ax.set_title(t, fontsize=5, pad=1)
    fig.subplots_adjust(0.01, 0.01, 0.99, 0.92, 0.05, 0.25)


@thumb('01_data')
def t_data(fig):
    from petbook.synth import draw_pet
    breeds = ['Birman', 'Ragdoll', 'Siamese', 'beagle', 'pug', 'samoyed']
    image_grid(fig, [draw_pet(b, seed=3, size=120) for b in breeds], breeds)


@thumb('02_presizing')
def t_presizing(fig):
    from petbook.synth import draw_pet
    from petbook.augment import aug_transforms, to_batch, Resize
    img = Resize(160)(draw_pet('Bengal', seed=5, size=240), split_idx=1)
    x = torch.cat([to_batch(img)] * 5)
    torch.manual_seed(1)
    for t in aug_transforms(size=96, min_scale=0.6): x = t(x)
    imgs = [np.asarray(img)] + [x[i].permute(1, 2, 0).clamp(0, 1).numpy() for i in range(5)]
    image_grid(fig, imgs, ['item: Resize(160)'] + ['batch aug'] * 5)


@thumb('03_datablock')
def t_datablock(fig, dls):
    xb, yb = dls.train.decode(dls.train.one_batch())
    image_grid(fig, [x.permute(1, 2, 0).clamp(0, 1).numpy() for x in xb[:6]], [dls.vocab[int(y)] for y in yb[:6]])


@thumb('04_cross_entropy')
def t_cross_entropy(fig):
    from petbook.losses import softmax_table
    acts, names = [0.02, -2.49, 1.25], ['grizzly', 'black', 'teddy']   # the book's bear activations
    t = softmax_table(acts)
    ax = fig.add_subplot(111); w = 0.38; i = np.arange(3)
    ax.bar(i - w/2, acts, w, label='activation', color='tab:gray'); ax.bar(i + w/2, t['probs'], w, label='softmax', color='tab:blue')
    ax.set_xticks(i, names); ax.axhline(0, color='k', lw=0.5); ax.legend(fontsize=5, frameon=False); small_axes(ax)
    fig.tight_layout(pad=0.3)


@thumb('05_learner')
def t_learner(fig, learn):
    r = learn.recorder; ax = fig.add_subplot(111)
    ax.plot(r.losses, lw=1, label='train (smoothed)')
    ends = np.cumsum([len(learn.dls.train)] * len(r.values)) - 1
    ax.plot(ends, [v[1] for v in r.values], 'o-', ms=3, lw=1, label='valid')
    ax.set_xlabel('batch', fontsize=5, labelpad=1); ax.legend(fontsize=5, frameon=False); small_axes(ax); fig.tight_layout(pad=0.3)


@thumb('06_lr_finder')
def t_lr_finder(fig, learn):
    sug = learn.lr_find(show_plot=False, suggest_funcs=(minimum, steep, valley))
    lrs, losses = learn.lr_finder.lrs, learn.lr_finder.losses
    ax = fig.add_subplot(111); ax.plot(lrs[:-5], losses[:-5], lw=1); ax.set_xscale('log')
    for (name, lr), c in zip(sug._asdict().items(), 'rgm'):
        ax.axvline(lr, color=c, lw=0.8, ls='--', label=name)
    ax.legend(fontsize=5, frameon=False); ax.set_xlabel('learning rate', fontsize=5, labelpad=1); small_axes(ax); fig.tight_layout(pad=0.3)


@thumb('07_transfer')
def t_transfer(fig, lrs):
    ax = fig.add_subplot(111)
    for g, (label, c) in enumerate(zip(['early body', 'late body', 'head'], ['tab:blue', 'tab:orange', 'tab:green'])):
        ax.plot([step[g] for step in lrs], lw=1, color=c, label=label)
    ax.set_yscale('log'); ax.set_xlabel('fine_tune: frozen, then unfrozen (batch)', fontsize=5, labelpad=1)
    ax.legend(fontsize=5, frameon=False); small_axes(ax); fig.tight_layout(pad=0.3)


@thumb('08_training_tricks')
def t_training_tricks(fig):
    "Progressive resizing: the same pet at the sizes a run grows through (drawn without petbook.tricks, which may not exist yet)."
    from petbook.synth import draw_pet
    from petbook.augment import Resize
    img = draw_pet('Abyssinian', seed=2, size=192)
    sizes = [24, 48, 96]
    for i, sz in enumerate(sizes):
        ax = fig.add_subplot(1, len(sizes), i + 1); ax.imshow(Resize(sz)(img, split_idx=1), interpolation='nearest'); ax.axis('off')
        ax.set_title(f'{sz} px' + (' → ' if i < len(sizes) - 1 else ''), fontsize=6, pad=2)
    fig.suptitle('progressive resizing · TTA · fp16 · precompute', fontsize=5.5, y=0.12)
    fig.subplots_adjust(0.01, 0.16, 0.99, 0.9, 0.05, 0.1)


@thumb('09_interpretation')
def t_interpretation(fig, learn):
    interp = ClassificationInterpretation.from_learner(learn)
    cm = interp.confusion_matrix(); ax = fig.add_subplot(111)
    ax.imshow(cm, cmap='Blues'); ax.set_xticks([]); ax.set_yticks([])
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            if cm[i, j]: ax.text(j, i, int(cm[i, j]), ha='center', va='center', fontsize=5, color='w' if cm[i, j] > cm.max() / 2 else 'k')
    ax.set_xlabel('predicted', fontsize=5, labelpad=1); ax.set_ylabel('actual', fontsize=5, labelpad=1); fig.tight_layout(pad=0.3)


@thumb('10_multilabel')
def t_multilabel(fig):
    from petbook.synth import draw_voc
    sets = [['dog', 'person'], ['car', 'bus'], ['cat', 'sofa']]
    image_grid(fig, [draw_voc(s, seed=2, size=(200, 150)) for s in sets], [' '.join(s) for s in sets], rows=1)


@thumb('11_regression')
def t_regression(fig):
    from petbook.synth import draw_head_frame, project
    xyz = (60., -20., 1000.); img = draw_head_frame(3, 0, xyz); x, y = project(xyz)
    ax = fig.add_axes([0, 0, 1, 1]); ax.imshow(img); ax.plot([x], [y], 'r+', ms=14, mew=2); ax.axis('off')


@thumb('12_pets_end_to_end')
def t_end_to_end(fig, learn):
    from petbook.synth import draw_pet
    vocab = list(learn.dls.vocab); img = draw_pet(vocab[0], seed=99, size=160)
    _, _, probs = learn.predict(img); top = probs.argsort(descending=True)[:3]
    a1 = fig.add_axes([0.0, 0.05, 0.45, 0.85]); a1.imshow(img); a1.axis('off'); a1.set_title(f'actual: {vocab[0]}', fontsize=5, pad=1)
    a2 = fig.add_axes([0.62, 0.2, 0.36, 0.7]); a2.barh(range(3)[::-1], probs[top].numpy(), color='tab:blue')
    a2.set_yticks(range(3)[::-1], [vocab[i] for i in top]); a2.set_xlim(0, 1); small_axes(a2); a2.set_title('predict', fontsize=5, pad=1)


@thumb('13_questionnaires')
def t_questionnaires(fig):
    ax = fig.add_axes([0.02, 0.02, 0.96, 0.8]); ax.axis('off'); ax.set_aspect('equal')
    for k in range(40):                          # 23 questions of chapter 5, then 17 of chapter 6, each answered
        ax.add_patch(plt.Rectangle((k % 10, -(k // 10)), 0.8, 0.8, color='tab:green' if k < 23 else 'tab:blue'))
    ax.text(10.4, -0.6, 'ch. 5: 23', fontsize=6, color='tab:green'); ax.text(10.4, -2.6, 'ch. 6: 17', fontsize=6, color='tab:blue')
    ax.set_xlim(-0.2, 14.5); ax.set_ylim(-3.3, 0.9)
    fig.suptitle('40 questions answered, code asserted', fontsize=6, y=0.96)



@thumb('90_external')
def t_external(fig):
    from matplotlib.patches import FancyBboxPatch
    ax = fig.add_axes([0, 0, 1, 1]); ax.axis('off'); ax.set_xlim(0, 10); ax.set_ylim(0, 6.6)
    steps = [('download into a .part file', 'tab:blue'), ('size + MD5 checked', 'tab:green'),
             ('extract: no "..", no /absolute', 'tab:orange'), ('marked complete in the cache', 'tab:purple')]
    for i, (text, c) in enumerate(steps):
        y = 5.7 - i * 1.6
        ax.add_patch(FancyBboxPatch((0.5, y - 0.5), 9, 1.0, boxstyle='round,pad=0.05', fc=c, alpha=0.25, ec=c))
        ax.text(5, y, text, ha='center', va='center', fontsize=6)
        if i: ax.annotate('', (5, y + 0.55), (5, y + 1.05), arrowprops=dict(arrowstyle='->', lw=0.8))


@thumb('91_synth')
def t_synth(fig):
    from petbook.synth import draw_pet, LOOKALIKES
    breeds = list(LOOKALIKES[1]) + list(LOOKALIKES[0])
    image_grid(fig, [draw_pet(b, seed=1, size=120) for b in breeds], ['Ragdoll', 'Birman', 'Siamese', 'pit bull', 'staffordshire', 'bulldog'])

@thumb('92_models')
def t_models(fig):
    "Parameters of each network petbook can load (petbook.models once notebook 92 exists, petbook.vision before)."
    try: from petbook.models import resnet18, resnet34, resnet50, efficientnet_lite0
    except ImportError: from petbook.vision import resnet18, resnet34, resnet50, efficientnet_lite0
    archs = [resnet18, resnet34, resnet50, efficientnet_lite0]
    n = [sum(p.numel() for p in a(pretrained=False).parameters()) / 1e6 for a in archs]
    ax = fig.add_subplot(111); names = [a.__name__.replace('efficientnet_', 'effnet_') for a in archs]
    ax.barh(range(len(n))[::-1], n, color=['tab:blue'] * 3 + ['tab:green']); ax.set_yticks(range(len(n))[::-1], names)
    for i, v in enumerate(n): ax.text(v + 0.5, len(n) - 1 - i, f'{v:.1f} M', va='center', fontsize=5)
    ax.set_xlim(0, max(n) * 1.25); ax.set_xlabel('parameters (millions)', fontsize=5, labelpad=1); small_axes(ax); fig.tight_layout(pad=0.3)


@thumb('93_fast')
def t_fast(fig):
    "petbook's speed tricks, from petbook.fast.SPEEDUPS: bit-exact when switched off, or within a tolerance."
    from petbook.fast import SPEEDUPS
    ax = fig.add_axes([0, 0, 1, 1]); ax.axis('off'); ax.set_xlim(0, 10); ax.set_ylim(-0.2, len(SPEEDUPS) + 1.2)
    for i, (name, sp) in enumerate(SPEEDUPS.items()):
        y = len(SPEEDUPS) - i
        ax.add_patch(plt.Circle((0.6, y), 0.28, color='tab:green' if sp.exact else 'tab:orange'))
        ax.text(1.2, y, name, va='center', fontsize=5.5)
    ax.text(6.2, len(SPEEDUPS) - 1, 'PETBOOK_FAST=0\nturns all off', fontsize=6, ha='center', va='center',
            bbox=dict(boxstyle='round', fc='w', ec='tab:gray'))
    ax.text(6.2, 2.6, '● bit-exact off', color='tab:green', fontsize=5, ha='center'); ax.text(6.2, 1.4, '● within a tolerance', color='tab:orange', fontsize=5, ha='center')


@thumb('94_distributed')
def t_distributed(fig):
    "Data parallelism: a shard per process, a model copy each, the gradients all-reduced, the same step everywhere."
    from matplotlib.patches import FancyBboxPatch
    ax = fig.add_axes([0, 0, 1, 1]); ax.axis('off'); ax.set_xlim(0, 10); ax.set_ylim(0, 6.6)
    for r, y in enumerate((4.9, 1.7)):
        for x, w, text, c in ((0.3, 2.2, f'shard {r}', 'tab:blue'), (3.0, 2.6, f'rank {r}: model', 'tab:orange'), (7.6, 2.1, 'step', 'tab:green')):
            ax.add_patch(FancyBboxPatch((x, y - 0.55), w, 1.1, boxstyle='round,pad=0.05', fc=c, alpha=0.25, ec=c))
            ax.text(x + w / 2, y, text, ha='center', va='center', fontsize=6)
        for x0, x1 in ((2.55, 2.95), (5.65, 6.15), (7.05, 7.55)): ax.annotate('', (x1, y), (x0, y), arrowprops=dict(arrowstyle='->', lw=0.8))
    ax.add_patch(FancyBboxPatch((6.2, 1.1), 0.8, 4.4, boxstyle='round,pad=0.05', fc='tab:red', alpha=0.2, ec='tab:red'))
    ax.text(6.6, 3.3, 'all-reduce', rotation=90, ha='center', va='center', fontsize=6)


@thumb('95_cli')
def t_cli(fig):
    "The first lines of `petbook --help`, as a terminal shows them."
    from petbook.cli import build_parser
    lines = ['$ petbook --help'] + build_parser().format_help().splitlines()[:9]
    ax = fig.add_axes([0, 0, 1, 1]); ax.set_facecolor('#1e1e1e'); ax.set_xticks([]); ax.set_yticks([])
    for i, l in enumerate(lines):
        ax.text(0.03, 0.93 - i * 0.095, l[:58], family='monospace', fontsize=4.2, va='top',
                color='#7ee787' if l.startswith('$') else '#e6e6e6', transform=ax.transAxes)


STANDALONE = {'01_data': t_data, '02_presizing': t_presizing, '04_cross_entropy': t_cross_entropy, '08_training_tricks': t_training_tricks,
              '10_multilabel': t_multilabel, '11_regression': t_regression, '13_questionnaires': t_questionnaires, '90_external': t_external,
              '91_synth': t_synth, '92_models': t_models, '93_fast': t_fast,
              '94_distributed': t_distributed, '95_cli': t_cli}

if __name__ == '__main__':
    os.environ.setdefault('PETBOOK_HOME', str(Path(tempfile.gettempdir())/'petbook-thumbs'))
    sys.path.insert(0, str(ROOT))
    from petbook.all import *
    from petbook.vision import efficientnet_lite0
    OUT.mkdir(parents=True, exist_ok=True)
    only = sys.argv[1:]          # names of notebooks: draw only those that need no trained learner (e.g. `92_models 95_cli`)
    unknown = [n for n in only if n not in STANDALONE]
    if unknown: sys.exit(f"make_thumbnails: {unknown} need the trained learner (run without arguments) or are not notebooks; "
                         f"by name: {', '.join(STANDALONE)}")
    for name, draw in STANDALONE.items():
        if not only or name in only: draw()
    if only: sys.exit(0)
    breeds = ['Abyssinian', 'Bengal', 'Persian', 'beagle', 'pug', 'samoyed']
    path = make_pets(Path(os.environ['PETBOOK_HOME'])/'thumb-pets', n_per_breed=24, seed=7, breeds=breeds)
    pets = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, splitter=RandomSplitter(seed=42),
                     get_y=using_attr(RegexLabeller(r'(.+)_\d+.jpg$'), 'name'),
                     item_tfms=Resize(96), batch_tfms=aug_transforms(size=64, min_scale=0.75))
    dls = pets.dataloaders(path/'images', bs=16, num_workers=0)
    t_datablock(dls)
    torch.manual_seed(0)
    learn = vision_learner(dls, efficientnet_lite0, metrics=error_rate)

    class GroupLRs(Callback):
        order = 60
        def before_batch(self):
            if self.training: self.learn.group_lrs.append([dict((pg['group'], pg['lr']) for pg in self.opt.param_groups)[g] for g in range(3)])
    learn.group_lrs = []; learn.add_cb(GroupLRs())
    with learn.no_bar(): learn.fine_tune(4, base_lr=4e-3)
    t_transfer(learn.group_lrs)
    t_learner(learn)          # the recorder holds the last fit: fine_tune's unfrozen phase
    t_interpretation(learn); t_end_to_end(learn); t_lr_finder(learn)
