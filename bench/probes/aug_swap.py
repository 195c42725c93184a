"""Question (issue 15–18, 2026-11-23…25): where does petbook's error-rate gap with fastai come from? petbook's whole pipeline (DataBlock, DataLoaders, Learner, Lite0,
the recipe of bench/fine_tune.py, the same validation files), with only the *training batch augmentation* swapped:

    petbook   petbook's aug_transforms(size=128, min_scale=0.75)            (what bench/fine_tune.py trains: with RandomBlur)
    noblur    the same with max_blur=0: one resample and nothing else (petbook's default until RandomBlur; every mode
              below starts from it)
    fastai    fastai 2.8.12's aug_transforms(size=128, min_scale=0.75), run on petbook's float batches
    batchcrop petbook's, but one random crop per batch (fastai's RandomResizedCropGPU draws one per batch)
    fa_geometry / fa_lighting   fastai's flip-rotate-zoom-warp-crop with petbook's lighting / the other way round
    pbrev     petbook's draws in fastai's order, one resample;  softblur: petbook's, training images blurred first (σ 0.5 px)
    twostep   petbook's transforms in fastai's two resamples (flip-rotate-zoom-warp at item size, then the crop)
    twostep_small  the same with the first resample at size/√min_scale (148 px here) instead of the item size
    order1    twostep's matrices (flip-rotate-zoom-warp applied *after* the crop, in the output frame) in ONE resample:
              the same mapping as twostep, one interpolation instead of two
    randblur  noblur, then a random blur per image at the output size (kernel [a, 1−2a, a], a ~ U(0, 0.25)): the first
              resample of twostep blurs each image by a different amount, depending on its sub-pixel phase. This is what
              became petbook's RandomBlur (which renormalises the edges instead of replicating them)
    axis      petbook's single resample without rotation and warp: the sampling lattice stays axis-aligned, as the
              last resample of twostep/fastai (and validation's resize) is

Validation batches go through petbook's resize for every mode, so the scores are comparable. Runs in the fastai
venv (petbook needs nothing fastai lacks), e.g.

    python -m bench.probes.aug_swap --seeds 0 1 2 3 --modes petbook fastai
    python3 -m bench.probes.aug_swap --device cuda --workers 8 --seeds $(seq 0 9)     # on a GPU, via bench/device.sh

Answer (BENCHMARKS.md, "Error rate"): the batch augmentation, not the Learner, model or lighting: fastai's two
resamples soften the training images; a random per-image blur after petbook's single resample (`randblur`) recovered
about half of the CPU gap and became petbook's `RandomBlur`. Kept to rerun on a GPU (`bash bench/device.sh aug_swap`).
"""
import argparse, json, statistics
from ..recipes import RESULTS, pets_path, run, save

CODE = """
import math
from petbook.augment import AffineWarp, BatchTransform, crop_mat, rotate_mat, zoom_mat, flip_mat, warp_mat
MODES, SEEDS, PATH, WORKERS, DEVICE = BENCH['modes'], BENCH['seeds'], BENCH['path'], BENCH['workers'], BENCH['device']

class FastaiAug(BatchTransform):
    "fastai's batch augmentation on petbook's batches (training); petbook's resize on validation."
    order = 30
    def __init__(self, **kw):
        self.tfms = sorted(fa.aug_transforms(**kw), key=lambda t: t.order)
        self.valid = AffineWarp(kw.get('size'))
    def encodes(self, b, kinds, split_idx):
        if split_idx != 0: return self.valid.encodes(b, kinds, split_idx)
        x = fa.TensorImage(b[0])
        for t in self.tfms: x = t(x, split_idx=0)
        return (x.as_subclass(torch.Tensor),) + tuple(b[1:])

def no_crop(warp, *args):
    "`warp`'s matrices without its random crop (flip·rotate·zoom·warp only)."
    ms, warp.min_scale = warp.min_scale, 1.
    try: return AffineWarp.matrices(warp, *args)
    finally: warp.min_scale = ms

class BatchCrop(AffineWarp):
    "petbook's AffineWarp with one crop for the whole batch."
    def matrices(self, bs, in_size, out_size, device='cpu'):
        H, ms = no_crop(self, bs, in_size, out_size, device), self.min_scale
        w = torch.full((bs,), math.sqrt(ms + (1 - ms) * random.random()), device=device)
        return crop_mat(w, w, (1 - w) * (2 * random.random() - 1), (1 - w) * (2 * random.random() - 1)) @ H

class RevWarp(AffineWarp):
    "petbook's draws composed in fastai's order (warp·flip·rotate·zoom, then the crop in the output frame), one resample."
    def matrices(self, bs, in_size, out_size, device='cpu'):
        u = lambda: torch.rand(bs, device=device); use = lambda p: u() < p
        w = (self.min_scale + (1 - self.min_scale) * u()).sqrt()
        C = crop_mat(w, w, (1 - w) * (2 * u() - 1), (1 - w) * (2 * u() - 1))
        z = torch.where(use(self.p_affine), self.min_zoom + (self.max_zoom - self.min_zoom) * u(), torch.ones(bs, device=device))
        R = rotate_mat((2 * u() - 1) * self.max_rotate * use(self.p_affine), 1.)
        on = use(self.p_affine); W = warp_mat((2 * u() - 1) * self.max_warp * on, (2 * u() - 1) * self.max_warp * on)
        return W @ flip_mat(use(0.5)) @ R @ zoom_mat(z, 2 * u() - 1, 2 * u() - 1) @ C

class Order1(AffineWarp):
    "twostep's composite matrix, zoom·rotate·flip·warp·crop (crop innermost), resampled once."
    def matrices(self, bs, in_size, out_size, device='cpu'):
        crop = AffineWarp(None, do_flip=False, max_rotate=0, max_zoom=1, max_warp=0, min_scale=self.min_scale, ratio=self.ratio)
        return no_crop(self, bs, in_size, out_size, device) @ crop.matrices(bs, in_size, out_size, device)

class Blur(BatchTransform):
    "Training only: a separable [a, 1−2a, a] blur — `a` for every image, or drawn per image from U(0, `a`) if `per_image`."
    def __init__(self, a, per_image=False, order=35, pad='replicate'): self.a, self.per_image, self.order, self.pad = a, per_image, order, pad
    def encodes(self, b, kinds, split_idx):
        if split_idx != 0: return b
        x = b[0]
        a = self.a * (torch.rand(len(x), 1, 1, 1, device=x.device, dtype=x.dtype) if self.per_image else 1.)
        p = torch.nn.functional.pad(x, (1, 1, 1, 1), mode=self.pad)
        h = a * (p[..., :, :-2] + p[..., :, 2:]) + (1 - 2 * a) * p[..., :, 1:-1]
        v = a * (h[..., :-2, :] + h[..., 2:, :]) + (1 - 2 * a) * h[..., 1:-1, :]
        return (v,) + tuple(b[1:])

class FirstPass(AffineWarp):
    "Flip/rotate/zoom/warp, training only (validation is resized once, by the crop pass)."
    order = 29
    def encodes(self, b, kinds, split_idx): return b if split_idx else super().encodes(b, kinds, split_idx)

def tfms(mode):
    if mode == 'petbook': return P.aug_transforms(size=128, min_scale=0.75)
    pb = P.aug_transforms(size=128, min_scale=0.75, max_blur=0)                      # [AffineWarp, Lighting]
    if mode == 'fastai': return [FastaiAug(size=128, min_scale=0.75)]
    if mode == 'fa_geometry': return [FastaiAug(size=128, min_scale=0.75, max_lighting=0), pb[1]]   # fastai's geometry, petbook's lighting
    if mode == 'fa_lighting':                                                                      # petbook's geometry, fastai's lighting
        light = FastaiAug(do_flip=False, max_rotate=0, max_zoom=1, max_warp=0); light.order = 40
        return [pb[0], light]
    if mode == 'pbrev': pb[0] = RevWarp(128, min_scale=0.75, ratio=(1, 1))
    if mode == 'softblur': pb = [Blur(1 / 8, order=29, pad='reflect')] + pb          # [1, 6, 1]/8, σ = 0.5 px, before the resample
    if mode == 'order1': pb[0] = Order1(128, min_scale=0.75, ratio=(1, 1))
    if mode == 'randblur': pb = pb + [Blur(0.25, per_image=True)]                     # after the resample, at 128 px
    if mode == 'axis': pb[0] = AffineWarp(128, max_rotate=0, max_warp=0, min_scale=0.75, ratio=(1, 1))
    if mode == 'batchcrop': pb[0] = BatchCrop(128, min_scale=0.75, ratio=(1, 1))
    if mode in ('twostep', 'twostep_small'):           # fastai's two resamples: flip/rotate/zoom/warp, then the crop to 128
        first = FirstPass(None if mode == 'twostep' else round(128 / 0.75 ** 0.5))      # at the item size, or at 148 px
        pb = [first, AffineWarp(128, do_flip=False, max_rotate=0, max_zoom=1, max_warp=0, min_scale=0.75, ratio=(1, 1)), pb[1]]
    return pb

def is_valid(o): return zlib.crc32(o.name.encode()) % 5 == 0
out = {}
for mode in MODES:
    pets = P.DataBlock(blocks=(P.ImageBlock, P.CategoryBlock), get_items=P.get_image_files, splitter=P.FuncSplitter(is_valid),
                       get_y=P.using_attr(P.RegexLabeller(r'(.+)_\\d+.jpg$'), 'name'), item_tfms=P.Resize(192), batch_tfms=tfms(mode))
    dls = pets.dataloaders(PATH, bs=32, num_workers=WORKERS, device=DEVICE)
    out[mode] = []
    for seed in SEEDS:
        random.seed(seed); np.random.seed(seed); torch.manual_seed(seed)
        learn = P.vision_learner(dls, P.efficientnet_lite0, metrics=P.error_rate)
        with learn.no_bar(): learn.fine_tune(2)
        out[mode].append(float(learn.validate()[1]))
        print(mode, seed, out[mode][-1], file=sys.stderr, flush=True)
print(json.dumps(out))
"""


def main(argv=None):
    "Train every mode over the seeds, print each error as it comes, and the means."
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--modes', nargs='+', default=['petbook', 'fastai', 'batchcrop'])
    ap.add_argument('--device', default='cpu'); ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--json', type=str, default=None)
    args = ap.parse_args(argv)
    settings = dict(threads=2 if args.device == 'cpu' else 8, modes=args.modes, seeds=args.seeds, path=str(pets_path(n_per_breed=30)),
                    workers=args.workers, device=args.device)
    res = run('fastai+petbook', CODE, settings, stream=True)      # each run's error as it finishes
    res.pop('load')
    for mode, errs in res.items():
        sd = statistics.stdev(errs) if len(errs) > 1 else 0.
        print(f"{mode:10s} error {statistics.mean(errs):.3f} ± {sd:.3f}   ({', '.join(f'{e:.3f}' for e in errs)})")
    save({'seeds': args.seeds, 'errors': res}, args.json or RESULTS/'probes'/'aug_swap.json')
    return res


if __name__ == '__main__': main()
