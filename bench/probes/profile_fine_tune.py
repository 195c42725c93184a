"""Question (2026-11-21…27): where does petbook's `fine_tune` spend its time on this machine?

    .venv/bin/pip install pyinstrument && python -m bench.probes.profile_fine_tune [--no-channels-last]

The recipe of bench/fine_tune.py (Lite0 pretrained, 128 px, bs 32, generated pets 37 × 30), one seed. Prints
1. pyinstrument's call tree of `learn.fine_tune(2)` (Python level: model vs data vs optimiser vs callbacks), and
2. torch.profiler's operator table for 3 training steps of the unfrozen model (which kernels the time goes to).

Answer (BENCHMARKS.md, "fine_tune"): the model's forward and backward are ~90 % of the wall time; the fixes it led to
(stride-2 padding without a copy, the small-map depthwise gradient, channels-last, fused Adam) are in nbs/92_models
and nbs/93_fast. Kept: rerun it when the ratio moves."""
import argparse, time


def main(argv=None):
    "Profile one `fine_tune(2)` and three training steps, and print both reports."
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--no-channels-last', action='store_true', help='profile the standard memory layout instead')
    args = ap.parse_args(argv)
    try: from pyinstrument import Profiler
    except ImportError: raise SystemExit('this profile needs pyinstrument: .venv/bin/pip install pyinstrument')
    import torch
    from petbook.all import DataBlock, ImageBlock, CategoryBlock, get_image_files, RandomSplitter, using_attr, RegexLabeller
    from petbook.all import Resize, aug_transforms, vision_learner, error_rate
    from petbook.vision import efficientnet_lite0
    from ..recipes import pets_path

    pets = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, splitter=RandomSplitter(seed=42),
                     get_y=using_attr(RegexLabeller(r'(.+)_\d+.jpg$'), 'name'),
                     item_tfms=Resize(192), batch_tfms=aug_transforms(size=128, min_scale=0.75))
    dls = pets.dataloaders(pets_path(n_per_breed=30), bs=32, num_workers=2)
    torch.manual_seed(0)
    learn = vision_learner(dls, efficientnet_lite0, metrics=error_rate, channels_last=not args.no_channels_last)
    p = Profiler(interval=0.005)
    with learn.no_bar():
        p.start(); t = time.perf_counter(); learn.fine_tune(2); wall = time.perf_counter() - t; p.stop()
    print(p.output_text(unicode=False, color=False))
    print(f"fine_tune(2): {wall:.1f} s, error rate {float(learn.validate()[1]):.3f}")
    xb, yb = dls.one_batch(); learn.unfreeze(); learn.model.train()
    step = lambda: learn.loss_func(learn.model(xb), yb).backward()
    step()
    with torch.profiler.profile() as prof:
        for _ in range(3): step()
    print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=12))


if __name__ == '__main__': main()
