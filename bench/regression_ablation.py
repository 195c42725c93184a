"""The regression recipe of 10_regression on the generated head-pose frames, with the knobs the notebook's ablation
table varies — to reproduce those rows or try more (each run prints the validation MSE, variance and R²).

    .venv/bin/python bench/regression_ablation.py H W EPOCHS LR FREEZE_EPOCHS FRAMES AUG PS
    .venv/bin/python bench/regression_ablation.py 120 160 10 1e-2 1 40 1 0.5     # the book's recipe, 10 epochs

AUG 1 = the book's aug_transforms, 0 = resize only; PS = the head's dropout (fastai's default 0.5)."""
import sys, time, torch, warnings, numpy as np
from pathlib import Path
from petbook.all import *
h, w = int(sys.argv[1]), int(sys.argv[2]); AUG = sys.argv[7] == "1"; PS = float(sys.argv[8])
path = get_biwi('generated', frames=int(sys.argv[6]))
with warnings.catch_warnings():
    warnings.simplefilter('ignore'); cal = np.genfromtxt(path/'01'/'rgb.cal', skip_footer=6)
def img2pose(x): return Path(f'{str(x)[:-7]}pose.txt')
def get_ctr(f):
    ctr = np.genfromtxt(img2pose(f), skip_header=3)
    return torch.tensor([ctr[0] * cal[0][0]/ctr[2] + cal[0][2], ctr[1] * cal[1][1]/ctr[2] + cal[1][2]])
biwi = DataBlock(blocks=(ImageBlock, PointBlock), get_items=get_image_files, get_y=get_ctr, splitter=FuncSplitter(lambda o: o.parent.name=='13'),
                 batch_tfms=[*(aug_transforms(size=(h, w)) if AUG else aug_transforms(size=(h, w), do_flip=False, max_rotate=0, max_zoom=1, max_warp=0, max_lighting=0)), Normalize.from_stats(*imagenet_stats)])
dls = biwi.dataloaders(path, bs=32)
torch.manual_seed(42); t = time.time()
learn = vision_learner(dls, efficientnet_lite0, y_range=(-1, 1), ps=PS)
with learn.no_bar(): learn.fine_tune(int(sys.argv[3]), float(sys.argv[4]), freeze_epochs=int(sys.argv[5]))
preds, targs = learn.get_preds(); targs = targs.view_as(preds)
mse = float(torch.nn.functional.mse_loss(preds, targs)); var = float(targs.var(0).mean())
print(f"size {(h, w)} time {time.time()-t:.0f}s valid MSE {mse:.5f} var {var:.5f} R2 {1-mse/var:.3f}")
