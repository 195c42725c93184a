"""Probe (issue 25): what resnet18/34/50/101 cost to *train* on this machine — seconds per training step and the process's
peak memory — beside the counts 08_training_tricks computes (parameters, multiply-adds, layer outputs).

Each architecture runs in a fresh child process (so peak memory is its own): the network with random weights (the cost
does not depend on them), petbook's Adam, cross-entropy over 37 classes, `--bs` random images of `--size`² pixels,
`--warmup` untimed steps then `--steps` timed ones (forward, backward, optimiser step; the median and the minimum —
the step least disturbed by other work on a shared machine — are reported). An arch may be listed twice to interleave runs.
Peak memory is the child's maximum resident set (ru_maxrss) after the steps, minus the same figure after building the
network and its input: what training adds (activations kept for backward, gradients, Adam's state, the allocator's slack).

    PYTHONPATH=. OMP_NUM_THREADS=2 python bench/probes/arch_cost.py --size 224 --bs 16
    python bench/probes/arch_cost.py --device cuda            # on a GPU: peak from torch.cuda.max_memory_allocated
"""
import argparse, json, os, resource, statistics, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARCHS = ['resnet18', 'resnet34', 'resnet50', 'resnet101']

def child(name, size, bs, steps, warmup, device):
    import torch, torch.nn.functional as F
    import petbook.models as M
    from petbook.learner import Adam
    torch.manual_seed(0)
    m = getattr(M, name)(num_classes=37).to(device)
    x, y = torch.randn(bs, 3, size, size, device=device), torch.randint(0, 37, (bs,), device=device)
    opt = Adam(list(m.parameters()), lr=1e-3)
    sync = torch.cuda.synchronize if device == 'cuda' else (lambda: None)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024          # MB (Linux reports KB)
    if device == 'cuda': torch.cuda.reset_peak_memory_stats(); base_gpu = torch.cuda.memory_allocated() / 2**20
    m.train(); times = []
    for i in range(warmup + steps):
        sync(); t = time.perf_counter()
        loss = F.cross_entropy(m(x), y); loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        sync(); (times.append(time.perf_counter() - t) if i >= warmup else None)
    out = dict(arch=name, params=sum(p.numel() for p in m.parameters()), step_s=statistics.median(times), steps_s=times,
               img_per_s=bs / statistics.median(times), rss_base_mb=base,
               rss_peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out['train_extra_mb'] = out['rss_peak_mb'] - base
    if device == 'cuda': out['gpu_peak_extra_mb'] = torch.cuda.max_memory_allocated() / 2**20 - base_gpu
    print(json.dumps(out))

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--archs', nargs='+', default=ARCHS); ap.add_argument('--size', type=int, default=224)
    ap.add_argument('--bs', type=int, default=16); ap.add_argument('--steps', type=int, default=3)
    ap.add_argument('--warmup', type=int, default=1); ap.add_argument('--device', default='cpu')
    ap.add_argument('--child', default=None); ap.add_argument('--out', default=None)
    a = ap.parse_args()
    if a.child: child(a.child, a.size, a.bs, a.steps, a.warmup, a.device); sys.exit()
    sys.path.insert(0, str(ROOT/'bench')); from common import machine
    env = {**os.environ, 'PYTHONPATH': str(ROOT)}
    rows = []
    for name in a.archs:
        cmd = [sys.executable, __file__, '--child', name] + [f'--{k}={v}' for k, v in
               dict(size=a.size, bs=a.bs, steps=a.steps, warmup=a.warmup, device=a.device).items()]
        r = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        rows.append(r)
        print(f"{name:10s} {r['params'] / 1e6:6.1f} M params   step {r['step_s']:.3f} s median, {min(r['steps_s']):.3f} s min ({r['img_per_s']:.1f} img/s)   "
              f"training adds {r['train_extra_mb']:.0f} MB (peak RSS {r['rss_peak_mb']:.0f} MB)"
              + (f"   GPU +{r['gpu_peak_extra_mb']:.0f} MB" if 'gpu_peak_extra_mb' in r else ''), flush=True)
    best = lambda n, k: min(min(r['steps_s']) if k == 'time' else r['train_extra_mb'] for r in rows if r['arch'] == n)
    if {'resnet50', 'resnet101'} <= {r['arch'] for r in rows}:
        print(f"resnet101 / resnet50: fastest step {best('resnet101', 'time') / best('resnet50', 'time'):.2f}x, "
              f"memory added by training {best('resnet101', 'mem') / best('resnet50', 'mem'):.2f}x")
    print(f"machine: {machine()}; size {a.size}, bs {a.bs}, {a.steps} timed steps after {a.warmup} warm-up, threads "
          f"{os.environ.get('OMP_NUM_THREADS', 'default')}")
    if a.out: Path(a.out).write_text(json.dumps(dict(machine=machine(), args=vars(a), rows=rows), indent=1))
