"""Run by tests/test_distributed.py under torchrun: a tiny recipe in every process, each rank's results in OUT/result_rank{r}.pt.

    python -m torch.distributed.run --nproc-per-node 2 tests/distributed_worker.py IMAGES OUT BS ok|fail

The test imports `recipe` to train the same thing in one plain process (no torch.distributed at all) for reference."""
import sys, os
from pathlib import Path
import torch, torch.nn as nn
from petbook.data import get_image_files, using_attr, RegexLabeller, RandomSplitter
from petbook.augment import Resize
from petbook.datablock import DataBlock, ImageBlock, CategoryBlock
from petbook.learner import Learner, error_rate, SGD
from petbook.distributed import rank_distrib

def recipe(path, bs, shuffle=False):
    "The same data, model and optimiser in every process (the seed makes the initial weights alike; DDP sends rank 0's anyway)."
    torch.manual_seed(0)
    pets = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, splitter=RandomSplitter(seed=42),
                     get_y=using_attr(RegexLabeller(r'(.+)_\d+.jpg$'), 'name'), item_tfms=Resize(24))
    dls = pets.dataloaders(path, bs=bs, num_workers=0, device='cpu', shuffle=shuffle)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, dls.c))
    return Learner(dls, model, metrics=error_rate, opt_func=SGD, lr=0.1, path=path.parent)

if __name__ == '__main__':
    path, out, bs, mode = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    learn = recipe(path, bs)
    rank = rank_distrib()
    with learn.distrib_ctx():
        if mode == 'fail' and rank == 1: raise ValueError('rank 1 broke on purpose')
        learn.fit(2)
        preds, targs, losses = learn.get_preds(with_loss=True)
        vals = learn.validate()
        learn.save(out/f'saved_rank{rank}.pth')
    from petbook.vision import vision_learner, resnet18
    vision_learner(learn.dls, resnet18, pretrained=False).export(out/f'export_rank{rank}.pth')
    torch.save({'weights': learn.model.state_dict(), 'preds': preds, 'targs': targs, 'losses': losses, 'vals': vals,
                'record': learn.recorder.values}, out/f'result_rank{rank}.pt')
