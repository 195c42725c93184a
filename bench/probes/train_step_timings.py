"""Probe: the timings that used to be asserted in 07/08 (issue 24 item 11), measured here instead of in a test.

- one forward + backward pass of a vision_learner with the body frozen, unfrozen, and frozen without BatchNorm
  (the notebooks now assert *why* frozen is cheaper: which parameters get a gradient);
- training the head on precomputed activations (08) against the same epochs of the frozen learner
  (08 now asserts *why* it is cheaper: the body runs once per image, and never again).

Machine-dependent; printed, never asserted. Run from the repository root:
    PYTHONPATH=$PWD python bench/probes/train_step_timings.py [--arch efficientnet_lite0] [--bs 32] [--size 128]
"""
import argparse, time

import torch


def best_of(f, n: int) -> float:
    "The fastest of `n` calls of `f` after one to warm up, in seconds."
    f(); ts = []
    for _ in range(n): t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return min(ts)


def step_times(learn, xb, yb, n: int) -> dict:
    "Forward + backward of one batch: frozen, unfrozen, frozen without BatchNorm (train_bn=False)."
    def step():
        learn.model.train(); learn.loss_func(learn.model(xb), yb).backward(); learn.model.zero_grad(set_to_none=True)
    out = {}
    learn.freeze(); out['frozen (head + BN)'] = best_of(step, n)
    learn.unfreeze(); out['unfrozen'] = best_of(step, n)
    learn.train_bn = False; learn.freeze(); out['frozen, BN too (head only)'] = best_of(step, n)
    learn.train_bn = True; learn.freeze()
    return out


def precompute_times(learn, epochs: int) -> dict:
    "Seconds for `epochs` of the frozen learner against precompute_learner + the same epochs on stored activations."
    from petbook.tricks import precompute_learner
    t0 = time.perf_counter()
    with learn.no_bar(): learn.fit(epochs, 1e-3)
    full = time.perf_counter() - t0
    t0 = time.perf_counter(); pre = precompute_learner(learn)
    with pre.no_bar(): pre.fit(epochs, 1e-3)
    return {f'{epochs} frozen epochs': full, f'precompute + {epochs} head epochs': time.perf_counter() - t0}


def main(argv=None):
    "Print the step and precompute timings on this machine."
    from petbook.all import get_pets, DataBlock, ImageBlock, CategoryBlock, get_image_files, RandomSplitter, RegexLabeller
    from petbook.all import using_attr, Resize, aug_transforms, vision_learner
    import petbook.all as pb
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--arch', default='efficientnet_lite0'); ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--size', type=int, default=128); ap.add_argument('--n', type=int, default=3, help='timed repeats (best of)')
    ap.add_argument('--n-per-breed', type=int, default=10); ap.add_argument('--epochs', type=int, default=2)
    a = ap.parse_args(argv)
    torch.manual_seed(0)
    path = get_pets('generated', n_per_breed=a.n_per_breed, verbose=False)/'images'
    dls = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, splitter=RandomSplitter(seed=42),
                    get_y=using_attr(RegexLabeller(r'(.+)_\d+.jpg$'), 'name'), item_tfms=Resize(int(a.size * 1.25)),
                    batch_tfms=aug_transforms(size=a.size, min_scale=0.75)).dataloaders(path, bs=a.bs)
    learn = vision_learner(dls, getattr(pb, a.arch))
    xb, yb = dls.one_batch()
    print(f"{a.arch}, bs {len(xb)}, {a.size} px, {torch.get_num_threads()} threads: forward + backward, best of {a.n}")
    for k, v in step_times(learn, xb, yb, a.n).items(): print(f"  {k:<28} {v * 1000:8.0f} ms")
    for k, v in precompute_times(learn, a.epochs).items(): print(f"  {k:<28} {v:8.1f} s")


if __name__ == '__main__':
    main()
