"""Question (2026-11-30): one training step of petbook's Lite0 is ~0.6× the independent network's, yet `lr_find` and
`fine_tune` spend far more than 100 × (one step) — where does the rest go, and do the DataLoader's workers run
beside the model's step on 2 cores, or only add to it?

    python -m bench.probes.phase_split [--workers 2] [--fine-tune] [--seed 0]

petbook alone, in this process: the recipe of bench/fine_tune.py (generated pets 37 × 30, crc32 fold 0, Resize(192),
aug_transforms(128, min_scale=0.75), bs 32, Lite0 with BatchNorm momentum 0.1), then `lr_find()` (or `fine_tune(2)`)
with a callback that adds up, per phase (training / validation epoch), the seconds spent waiting for the next batch
(the DataLoader, batch transforms included), in the forward pass and loss, in the backward pass and in the
optimiser step. Printed, never asserted; run it with `--workers 0` and `--workers 2` on a quiet machine to compare.

Answer (2026-11-30, AVX2, 2 cores, quiet; three runs each):
- **lr_find ran a validation pass after every epoch** (~1.5 s each, 3 in 100 batches): petbook's Learner didn't send
  `before_validate` to a callback with `run_valid=False`, so the finder's cancel never fired. Fixed (nbs/05: the phase
  events reach every callback, as in fastai; tests in 05 and 06).
- **On 2 cores the workers don't run beside the step, they slow it.** Before that fix, lr_find with 2 workers: 56.4,
  59.4, 59.8 s, of which the forward passes 27.0–29.1 s; with `num_workers=0`: 49.0, 49.7, 50.5 s, forward passes
  18.2–19.0 s, the waits for data 8.4–8.6 s (against 4.6–5.0 s). After it, one run each: 52.0 s (forward 25.3 s,
  backward 19.2 s, waits 4.8 s) against 47.1 s (17.8, 18.7, 8.0 s). A batch's 32 images take a worker ~75 ms of one
  core (decode and Resize ~2.3 ms an image); a worker starts on the next batch the moment the loop takes one, i.e.
  during the forward pass, and the model's two threads then share a core with it: the slower thread holds the other
  at every operator's barrier, so the decoding costs the step more than it would cost on its own. The backward pass
  (once the worker is done) is about the same either way. Nothing in the library changed for this (the comparison
  gives both libraries the same 2 workers); it is why `fine_tune` and `lr_find` take well over the time of their steps alone on
  this machine, and why a CPU with cores to spare, or a GPU, hides the data pipeline where 2 cores cannot.
"""
import argparse, re, time, zlib


def main(argv=None):
    "Run lr_find (or fine_tune(2)) once with the phase-timing callback and print the split."
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--workers', type=int, default=2); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--fine-tune', action='store_true', help='time fine_tune(2) instead of lr_find()')
    a = ap.parse_args(argv)
    import random, numpy as np, torch
    from petbook.all import (DataBlock, ImageBlock, CategoryBlock, FuncSplitter, get_image_files, using_attr, RegexLabeller,
                             Resize, aug_transforms, vision_learner, error_rate, Callback)
    from petbook.vision import efficientnet_lite0
    from ..recipes import pets_path
    path, label = pets_path(30), r'(.+)_\d+.jpg$'
    vocab = sorted({re.match(label, f.name).group(1) for f in get_image_files(path)})
    pets = DataBlock(blocks=(ImageBlock, CategoryBlock(vocab=vocab)), get_items=get_image_files,
                     splitter=FuncSplitter(lambda o: zlib.crc32(o.name.encode()) % 5 == 0), get_y=using_attr(RegexLabeller(label), 'name'),
                     item_tfms=Resize(192), batch_tfms=aug_transforms(size=128, min_scale=0.75))
    dls = pets.dataloaders(path, bs=32, num_workers=a.workers)
    random.seed(a.seed); np.random.seed(a.seed); torch.manual_seed(a.seed)
    learn = vision_learner(dls, efficientnet_lite0, metrics=error_rate)
    for m in learn.model[0].modules():
        if isinstance(m, torch.nn.BatchNorm2d): m.momentum = 0.1

    class PhaseTimes(Callback):
        "Seconds per phase: waiting for batches, forward + loss, backward, optimiser step."
        order = 100
        def __init__(self): self.log, self.acc = [], None
        def _start(self, phase):
            self._flush(); self.phase, self.acc, self.t_end = phase, dict(wait=0., forward=0., backward=0., step=0., batches=0), time.perf_counter()
        def _flush(self):
            if self.acc: self.log.append((self.phase, self.acc)); self.acc = None
        def before_train(self): self._start(f'train {self.epoch}')
        def before_validate(self): self._start(f'valid {self.epoch}')
        def before_batch(self): self.t0 = time.perf_counter(); self.acc['wait'] += self.t0 - self.t_end
        def after_loss(self): self.t1 = time.perf_counter(); self.acc['forward'] += self.t1 - self.t0
        def after_backward(self): self.t2 = time.perf_counter(); self.acc['backward'] += self.t2 - self.t1
        def after_step(self): self.acc['step'] += time.perf_counter() - self.t2
        def after_batch(self): self.t_end = time.perf_counter(); self.acc['batches'] += 1
        def after_fit(self): self._flush()
        after_cancel_fit = after_fit

    pt = PhaseTimes(); learn.add_cb(pt)
    with learn.no_bar():
        t = time.perf_counter()
        learn.fine_tune(2) if a.fine_tune else learn.lr_find(show_plot=False)
        wall = time.perf_counter() - t
    for phase, acc in pt.log: print(f"{phase:8s} " + '  '.join(f"{k} {v:.2f}" if k != 'batches' else f"{v} batches" for k, v in acc.items()))
    total = {k: sum(acc[k] for _, acc in pt.log) for k in ('wait', 'forward', 'backward', 'step')}
    print(f"{'fine_tune(2)' if a.fine_tune else 'lr_find()'} with {a.workers} workers: {wall:.1f} s; "
          + ', '.join(f"{k} {v:.1f} s" for k, v in total.items()) + f", the rest {wall - sum(total.values()):.1f} s")
    return dict(wall=wall, **total)


if __name__ == '__main__': main()
