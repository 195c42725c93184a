"""Data-parallel training (petbook.distributed, nbs/94_distributed) on this machine: the same recipe in 1 process and in N
processes under torchrun, with the same global batch.

    python -m bench.distributed                       # CPU: 1 and 2 processes; results/distributed.json
    python -m bench.distributed --nproc 1 2 4 --epochs 2 --n-per-breed 30

The recipe: the drawn pets (37 breeds × --n-per-breed, drawn once before timing), Resize(--item-size) +
aug_transforms(size=--size), `vision_learner(dls, efficientnet_lite0, metrics=error_rate).fine_tune(--epochs)`, a global
batch of --bs items (bs/N per process), no DataLoader workers. Every run goes through torchrun (1 process too, so both
pay the same start), each process with cores/N threads: the question is whether N processes beat one process that has
the whole machine. Timed: the fine_tune inside the processes (rank 0; the ranks wait for each other every step) and
the whole launch with the processes' start. On a machine with GPUs, each process gets one and the default is
1 and torch.cuda.device_count() processes (1 alone with one GPU)."""
import argparse, json, os, sys, time
from .recipes import RESULTS, ROOT, pets_path, save


def parser():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--nproc', type=int, nargs='+', default=None, help='process counts to time (default: 1 and 2, or 1 and the GPUs)')
    ap.add_argument('--epochs', type=int, default=1); ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--n-per-breed', type=int, default=10); ap.add_argument('--size', type=int, default=64)
    ap.add_argument('--item-size', type=int, default=96); ap.add_argument('--timeout', type=float, default=3600)
    ap.add_argument('--threads', type=int, default=None, help='torch threads per process (default: cores / processes)')
    return ap


def worker(a):
    "One process of the run (started by torchrun): train, and rank 0 prints one JSON line."
    import torch
    from petbook.data import get_image_files, using_attr, RegexLabeller, RandomSplitter
    from petbook.augment import Resize, aug_transforms
    from petbook.datablock import DataBlock, ImageBlock, CategoryBlock
    from petbook.learner import error_rate
    from petbook.vision import vision_learner, efficientnet_lite0
    from petbook.distributed import rank0_first, rank_distrib, num_distrib
    torch.manual_seed(0)
    pets = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, splitter=RandomSplitter(seed=42),
                     get_y=using_attr(RegexLabeller(r'(.+)_\d+.jpg$'), 'name'), item_tfms=Resize(a.item_size),
                     batch_tfms=aug_transforms(size=a.size, min_scale=0.75))
    dls = pets.dataloaders(pets_path(a.n_per_breed), bs=a.bs // num_distrib(), num_workers=0)
    learn = rank0_first(vision_learner, dls, efficientnet_lite0, metrics=error_rate)
    with learn.no_bar(), learn.distrib_ctx():
        t = time.perf_counter(); learn.fine_tune(a.epochs); t = time.perf_counter() - t
    if rank_distrib() == 0:
        print(json.dumps({'nproc': num_distrib(), 'fine_tune_s': round(t, 2), 'train_loss': learn.recorder.values[-1][0],
                          'error_rate': learn.recorder.values[-1][2], 'device': str(dls.device)}), flush=True)


def main(argv=None):
    "Time the recipe in each process count; print a table and one JSON line."
    a = parser().parse_args(argv)
    if 'RANK' in os.environ: return worker(a)
    import torch
    from petbook.distributed import launch_torchrun
    gpus = torch.cuda.device_count()
    counts = a.nproc or ([1, gpus] if gpus > 1 else [1] if gpus == 1 else [1, 2])
    if gpus and max(counts) > gpus: sys.exit(f"--nproc {max(counts)}: this machine has {gpus} GPU(s), one per process")
    pets_path(a.n_per_breed)                                   # draw the pets once, before any timing
    cores, rows, load0 = os.cpu_count() or 1, [], os.getloadavg()[0]
    args = ['-m', 'bench.distributed', '--epochs', a.epochs, '--bs', a.bs, '--n-per-breed', a.n_per_breed, '--size', a.size, '--item-size', a.item_size]
    for n in counts:
        t, threads = time.perf_counter(), a.threads or max(1, cores // n)
        r = launch_torchrun(args, nproc=n, timeout=a.timeout, env={'OMP_NUM_THREADS': str(threads), 'PYTHONPATH': str(ROOT)})
        wall = time.perf_counter() - t
        if r.returncode: sys.exit(f"{n} processes failed:\n{r.stderr[-3000:]}")
        res = json.loads(r.stdout.strip().splitlines()[-1]); res['launch_s'] = round(wall, 2); rows.append(res)
        res['threads'] = threads
        print(f"{n} process(es), {threads} thread(s) each, bs {a.bs // n} each: fine_tune({a.epochs}) {res['fine_tune_s']:.1f} s, "
              f"whole launch {wall:.1f} s, error_rate {res['error_rate']:.3f}", flush=True)
    base = rows[0]['fine_tune_s']
    for r_ in rows: r_['speedup_vs_first'] = round(base / r_['fine_tune_s'], 2)
    res = {'load_1min_start': load0, 'recipe': vars(a), 'procs': rows}
    save(res, RESULTS/('cuda' if gpus else '')/'distributed.json'); print(json.dumps(res))


if __name__ == '__main__':
    main()
