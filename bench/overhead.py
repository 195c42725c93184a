"""How much does petbook's Learner add to a minimal hand-written PyTorch loop? Same model, data, optimiser and LR.

    python -m bench.overhead
    python -m bench.overhead --device cuda --reps 10        # on a GPU (batches held on the GPU)

Both train one epoch and then validate with a metric, over the *same* batches held in memory (so data loading,
which both would share, doesn't blur the comparison). Runs alternate (bare, petbook, bare, petbook, …) and the
fastest of each is compared. Target: petbook <= 1.05x the bare loop."""
import argparse, time
from pathlib import Path
import torch, torch.nn.functional as F, torchvision
from petbook.all import *
from .recipes import RESULTS, pets_path, save


def main(argv=None):
    "Time both loops, alternating, print the best of each and write results/overhead.json."
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--reps', type=int, default=3); ap.add_argument('--size', type=int, default=64); ap.add_argument('--bs', type=int, default=64)
    ap.add_argument('--device', default='cpu'); ap.add_argument('--json', type=str, default=None)
    args = ap.parse_args(argv)
    torch.manual_seed(0)

    dls = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, splitter=RandomSplitter(seed=42),
                    get_y=using_attr(RegexLabeller(r'(.+)_\d+.jpg$'), 'name'), item_tfms=Resize(args.size),
                    batch_tfms=Normalize.from_stats(*imagenet_stats)).dataloaders(pets_path(), bs=args.bs, device='cpu')
    dev = torch.device(args.device)
    train_b, valid_b = ([(x.to(dev), y.to(dev)) for x, y in dl] for dl in (dls.train, dls.valid))   # the same batches for both loops
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)


    class Batches:
        "A list of batches that looks like a DataLoader to the Learner."
        def __init__(self, b): self.b = b
        def __iter__(self): return iter(self.b)
        def __len__(self): return len(self.b)


    class InMemory:
        "DataLoaders over in-memory batches."
        def __init__(self, trn, val): self.train, self.valid, self.n_inp, self.device, self.path = Batches(trn), Batches(val), 1, dev, Path('.')
        def __getitem__(self, i): return [self.train, self.valid][i]
        kinds = ['image', 'category']; vocab = None


    def model_(): torch.manual_seed(1); return torchvision.models.resnet18(num_classes=37).to(dev)
    def opt_(params): return torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01)


    def bare():
        "The loop a person writes by hand: train, then validate with accuracy; losses logged per batch."
        model = model_(); opt = opt_(model.parameters()); losses = []
        model.train()
        for xb, yb in train_b:
            loss = F.cross_entropy(model(xb), yb); loss.backward(); opt.step(); opt.zero_grad(set_to_none=True); losses.append(loss.item())
        model.eval(); tot = n = correct = 0
        with torch.no_grad():
            for xb, yb in valid_b:
                out = model(xb); tot += F.cross_entropy(out, yb).item() * len(yb); correct += (out.argmax(1) == yb).sum().item(); n += len(yb)
        return tot / n, 1 - correct / n


    def petbook():
        learn = Learner(InMemory(train_b, valid_b), model_(), loss_func=CrossEntropyLossFlat(), metrics=error_rate,
                        opt_func=lambda p, lr: opt_(p), wd_bn_bias=True)
        with learn.no_bar(): learn.fit(1, 1e-3)
        return learn.recorder.values[-1][1:]


    times = {'bare': [], 'petbook': []}
    bare(); petbook()                                              # warm-up
    for _ in range(args.reps):
        for name, f in (('bare', bare), ('petbook', petbook)):
            sync(); t = time.perf_counter(); out = f(); sync(); times[name].append(time.perf_counter() - t)
    b, p = min(times['bare']), min(times['petbook'])
    res = {'device': args.device, 'bare_s': b, 'petbook_s': p, 'ratio': p / b, 'all': times,
           'batches': len(train_b) + len(valid_b), 'model': 'resnet18', 'size': args.size, 'bs': args.bs}
    print(f"on {args.device}, one epoch (train {len(train_b)} + valid {len(valid_b)} batches, resnet18, {args.size}px, bs {args.bs}), best of {args.reps}:")
    print(f"  bare PyTorch loop : {b:.2f}s   (runs: {', '.join(f'{t:.2f}' for t in times['bare'])})")
    print(f"  petbook Learner   : {p:.2f}s   (runs: {', '.join(f'{t:.2f}' for t in times['petbook'])})")
    print(f"  ratio             : {p / b:.3f}x  (target <= 1.05x)")
    save(res, args.json or RESULTS/('cuda' if args.device == 'cuda' else '')/'overhead.json')
    return res


if __name__ == '__main__': main()
