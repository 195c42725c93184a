"""Question (2026-12-01): the convolutions' backward pass is about half of a Lite0 training step on the CPU
(torch.profiler: `aten::convolution_backward` ~240 of ~490 ms a step, its forward ~80 ms). Which part of it is
slow, and is it the arithmetic or the kernels?

    python -m bench.probes.depthwise_grad [--bs 32] [--size 128] [--reps 9]

petbook alone, one process, its malloc setting and threads: the Lite0 of bench/fine_tune.py (`vision_learner`'s body,
channels-last) at the recipe's batch and size. For each depthwise convolution of the network (as petbook runs it:
stride-2 layers carry their 'same' padding as a kernel shifted by one, so a 3×3 becomes 4×4 and a 5×5 becomes 6×6),
on its real input: the forward pass; the input's gradient alone (the kernel frozen, as in `fine_tune`'s first phase);
the kernel's gradient alone, by PyTorch's own path (`no_speedups('depthwise_grad')`) and by the path petbook's
`_depthwise_conv` takes (nbs/93). Each through autograd, medians of `--reps` after three to warm up; printed, never
asserted.

Answer (2026-12-01, AVX2, 2 threads, quiet): the **kernel gradients** were the slow part. Over Lite0's 16 depthwise
layers the forward passes add up to ~27 ms and the input gradients ~30 ms; the kernel gradients by PyTorch's own
path ~167 ms. oneDNN's depthwise kernel gradient is fast up to 3×3 and several times slower from 4×4 up on the same
map (240 channels at 16 px: 3×3 2.5 ms, 5×5 9.9 ms), slowest on maps smaller than the kernel (the last stage's 4×4
maps under 5×5 kernels: 18–32 ms a layer against a 0.6 ms forward pass). Written as a depthwise convolution of each
(image, channel) map with its own output gradient as the kernel — which oneDNN runs on its fast forward path — the
same gradients (to ~1e-6) take 72 ms in all, where petbook's earlier k²-sums-on-small-maps took ~99 ms: a whole
unfrozen training step 34 ± 10 ms faster at 128 px (bs 32), 47 ± 9 ms at 64 px (bs 64), 19 ± 17 ms at 224 px (bs 16),
14 alternating pairs each; `bench.probes.model_step` then gave 0.61× / 0.60× fastai's step (frozen / unfrozen), from
0.62× / 0.61×. Tried and not kept: the stride-2 3×3 layers on an `F.pad` copy with a true 3×3 kernel (backward of the
largest 37.6 → 28.7 ms, its forward 5.1 → 10.2 ms; whole step within noise). The rest of the gap to fastai's step is
PyTorch's own kernels, which a Python library can only route around, as here, not speed up."""
import argparse, statistics, time


def main(argv=None):
    "Time forward, input gradient and kernel gradient of each depthwise layer of petbook's Lite0; print a table."
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--bs', type=int, default=32); ap.add_argument('--size', type=int, default=128)
    ap.add_argument('--reps', type=int, default=9)
    a = ap.parse_args(argv)
    import torch, torch.nn as nn
    from petbook.all import create_body
    from petbook.fast import keep_freed_memory, no_speedups, Conv2dSame, DepthwiseConv2d
    from petbook.vision import efficientnet_lite0
    keep_freed_memory()
    body = create_body(efficientnet_lite0(pretrained=True), efficientnet_lite0.cut).to(memory_format=torch.channels_last).train()
    layers = []                                       # (module, its input) for each depthwise convolution
    def grab(mod, inp, out): layers.append((mod, inp[0].detach().requires_grad_()))
    hooks = [mod.register_forward_hook(grab) for mod in body.modules()
             if isinstance(mod, (DepthwiseConv2d, Conv2dSame)) and mod.groups == mod.in_channels > 1]
    with torch.no_grad(): body(torch.randn(a.bs, 3, a.size, a.size).contiguous(memory_format=torch.channels_last))
    for h in hooks: h.remove()

    def median_ms(f):
        for _ in range(3): f()
        ts = []
        for _ in range(a.reps): t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
        return statistics.median(ts) * 1000

    print(f"{'channels':>8} {'map':>5} {'kernel':>6} {'stride':>6} {'forward':>8} {'input grad':>10} {'kernel grad':>11} "
          f"{'(PyTorch)':>9} {'petbook':>8}  (ms, bs {a.bs}, {a.size} px)")
    total = dict(forward=0., input=0., kernel_pytorch=0., kernel_petbook=0.)
    for mod, x in layers:
        g = torch.randn_like(mod(x))
        fwd = median_ms(lambda: mod(x))
        mod.weight.requires_grad_(False)                  # the input's gradient alone (a frozen kernel, as fine_tune's first phase)
        gin = median_ms(lambda: torch.autograd.grad(mod(x), x, g)) - fwd
        mod.weight.requires_grad_(True); xd = x.detach()  # the kernel's gradient alone: PyTorch's, then the path petbook takes
        with no_speedups('depthwise_grad'): gw_lib = median_ms(lambda: torch.autograd.grad(mod(xd), mod.weight, g)) - fwd
        gw = median_ms(lambda: torch.autograd.grad(mod(xd), mod.weight, g)) - fwd
        y = mod(xd); how = getattr(y.grad_fn, 'how', None) or 'PyTorch'
        k = mod.kernel_size[0] + (mod.stride[0] == 2 and x.shape[-1] % 2 == 0)   # the shifted kernel petbook runs
        print(f"{mod.in_channels:>8} {x.shape[-1]:>5} {f'{k}×{k}':>6} {mod.stride[0]:>6} {fwd:>8.2f} {gin:>10.2f} {gw_lib:>11.2f} {gw:>9.2f} {how:>8}")
        for key, v in zip(total, (fwd, gin, gw_lib, gw)): total[key] += v
    print('total: ' + ', '.join(f"{k} {v:.1f} ms" for k, v in total.items()))
    return total


if __name__ == '__main__': main()
