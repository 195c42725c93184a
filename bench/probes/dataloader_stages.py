"""Question (2026-11-23, rerun with each DataLoader change): where does petbook's training DataLoader pass spend its
time, stage by stage (the pipeline of bench/dataloader.py)?

    python -m bench.probes.dataloader_stages --device cuda --workers 16 12 8     # on a GPU (bench/device.sh stages)
    python -m bench.probes.dataloader_stages --workers 2                          # on this CPU

Each row adds one stage to the one before and reports images/s over the training set (best of `--reps` passes
after a warm-up pass):
  decode      JPEG decode + Resize(460) in a process pool, nothing else (the ceiling for anything built on PIL)
  workers     the torch DataLoader's batches arriving in the main process (item transforms + collation), no pinning
  pinned      the same with pin_memory (what a CUDA DataLoader does: a copy into page-locked memory)
  to_device   + the copy to the device
  full        + uint8 → float and the batch transforms: the benchmark's pass
  batch_tfms  the batch transforms alone, on one batch already on the device, repeated (no loading at all)

Answer (BENCHMARKS.md, "Distance to the limit"): on the GPU (H100, 2026-11-23) the workers are the limit (decode +
resize); on 2 CPU cores the batch transforms in the main process are, sharing the cores with the workers.
bench/dataloader.py now measures the two ceilings with every DataLoader figure; this probe keeps the stages between."""
import argparse, json, os, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
import torch
from petbook.all import *
from ..recipes import pets_path, machine


def decode_resize(files) -> int:
    "JPEG decode + Resize(460) of `files` and nothing else, one torch thread as in a DataLoader worker."
    torch.set_num_threads(1)
    r = Resize(460)
    for f in files: r(open_image(f), 0)
    return len(files)


def main(argv=None):
    "Measure each stage for each worker count and print (and with --json, write) the rates."
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--device', default='cpu'); ap.add_argument('--reps', type=int, default=2)
    ap.add_argument('--workers', type=int, nargs='+', default=[os.cpu_count()]); ap.add_argument('--json', type=str, default=None)
    args = ap.parse_args(argv)
    dev = torch.device(args.device)
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    path = pets_path()

    def best_rate(passes):
        "Images/s of the best of `args.reps` passes after one warm-up pass; `passes()` returns the images it went through."
        rates = []
        for rep in range(args.reps + 1):
            sync(); t = time.perf_counter(); n = passes(); sync()
            if rep: rates.append(n / (time.perf_counter() - t))
        return max(rates)


    res = {'machine': machine(), 'device': args.device, 'rows': []}
    print(f"machine: {res['machine']}")
    for w in args.workers:
        files = get_image_files(path)
        with ProcessPoolExecutor(w) as ex:
            list(ex.map(decode_resize, [files[i:i + 2] for i in range(0, 2 * w, 2)]))
            rate = best_rate(lambda: sum(ex.map(decode_resize, [files[i::w] for i in range(w)])))
        rows = {'decode': rate}
        dls = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, splitter=RandomSplitter(seed=42),
                        get_y=using_attr(RegexLabeller(r'(.+)_\d+.jpg$'), 'name'), item_tfms=Resize(460),
                        batch_tfms=aug_transforms(size=224, min_scale=0.75)).dataloaders(path, bs=64, num_workers=w, device=dev)
        dl = dls.train

        def raw(move=False):
            n = 0
            for b in dl._torch_dl():
                if move: b = tuple(o.to(dev, non_blocking=True) for o in b)
                n += len(b[0])
            return n
        for pin in (False, True):
            dl.pin_memory, dl._dl = pin, None
            rows['pinned' if pin else 'workers'] = best_rate(raw)
        dl.pin_memory, dl._dl = dev.type == 'cuda', None
        rows['to_device'] = best_rate(lambda: raw(move=True))
        rows['full'] = best_rate(lambda: sum(len(xb) for xb, yb in dl))
        b = tuple(o.to(dev) for o in next(iter(dl._torch_dl())))
        rows['batch_tfms'] = best_rate(lambda: sum(len(dl.after_batch(b)[0]) for _ in range(20)))
        res['rows'].append({'workers': w, **rows})
        print(f"{w} workers, {args.device}: " + ', '.join(f'{k} {v:.0f}' for k, v in rows.items()) + ' img/s', flush=True)
        del dls, dl
    if args.json: Path(args.json).write_text(json.dumps(res, indent=1))


if __name__ == '__main__': main()
