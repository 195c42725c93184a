"""Chapter 5 (pet breeds) as a reader types it on petbook: every name and signature the chapter's code uses.

Written for petbook (not copied from the book): the calls are the book's, the data generated, sizes tiny, the
backbone whatever `pick_arch` finds offline. tests/test_book.py runs it; fastbook's own cells run in
`test_fastbook_cells` when a checkout is at hand.
"""
from petbook.all import *

ARCH = pick_arch(resnet34, verbose=False)
path = get_pets()
Path.BASE_PATH = path
assert 'images' in [p.name for p in path.ls()] and repr(path/'images') == "Path('images')"
files = (path/'images').ls()
assert repr(files).startswith(f'(#{len(files)}) [')
fname = files.sorted()[0]
assert re.findall(r'(.+)_\d+.jpg$', fname.name) == [fname.name.rsplit('_', 1)[0]]

pets = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, splitter=RandomSplitter(seed=42),
                 get_y=using_attr(RegexLabeller(r'(.+)_\d+.jpg$'), 'name'),
                 item_tfms=Resize(64), batch_tfms=aug_transforms(size=32, min_scale=0.75))
dls = pets.dataloaders(path/'images')
dls.show_batch(nrows=1, ncols=3)
pets1 = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, splitter=RandomSplitter(seed=42),
                  get_y=using_attr(RegexLabeller(r'(.+)_\d+.jpg$'), 'name'))
try: pets1.summary(path/'images'); raise AssertionError('summary should stop at collation')
except CollateError as e: assert 'Resize' in str(e)

learn = vision_learner(dls, ARCH, metrics=error_rate)
learn.fine_tune(1)
x, y = dls.one_batch()
preds, _ = learn.get_preds(dl=[(x, y)])
assert len(preds[0]) == 37 and abs(float(preds[0].sum()) - 1) < 1e-4

plot_function(torch.sigmoid, min=-4, max=4)
torch.random.manual_seed(42)
acts = torch.randn((6, 2)) * 2
sm_acts = torch.softmax(acts, dim=1)
assert torch.allclose((acts[:, 0] - acts[:, 1]).sigmoid(), sm_acts[:, 0], atol=1e-6)
targ = tensor([0, 1, 0, 1, 1, 0])
idx = range(6)
df = pd.DataFrame(sm_acts, columns=["3", "7"])
df['targ'] = targ; df['idx'] = idx; df['result'] = sm_acts[range(6), targ]
df['loss'] = -torch.log(tensor(df['result']))
assert torch.allclose(-sm_acts[idx, targ], F.nll_loss(sm_acts, targ, reduction='none'))
plot_function(torch.log, min=0, max=1, ty='log(x)', tx='x')
plot_function(lambda x: -1 * torch.log(x), min=0, max=1, tx='x', ty='- log(x)', title='Log Loss when true label = 1')
loss_func = nn.CrossEntropyLoss()
assert abs(float(loss_func(acts, targ)) - 1.8045) < 1e-3 and torch.allclose(F.cross_entropy(acts, targ), loss_func(acts, targ))
assert torch.allclose(nn.CrossEntropyLoss(reduction='none')(acts, targ).mean(), loss_func(acts, targ))
assert torch.allclose(tensor(df['loss'].values).float(), nn.CrossEntropyLoss(reduction='none')(acts, targ), atol=1e-5)

interp = ClassificationInterpretation.from_learner(learn)
interp.plot_confusion_matrix(figsize=(12, 12), dpi=60)
assert isinstance(interp.most_confused(min_val=1), list)

learn = vision_learner(dls, ARCH, metrics=error_rate)
lr_min, lr_steep = learn.lr_find(num_it=12, suggest_funcs=(minimum, steep))
print(f"Minimum/10: {lr_min:.2e}, steepest point: {lr_steep:.2e}")
learn = vision_learner(dls, ARCH, metrics=error_rate)
learn.fit_one_cycle(1, 3e-3)
learn.unfreeze()
learn.lr_find(num_it=12)
learn.fit_one_cycle(1, lr_max=1e-5)
learn.fit_one_cycle(1, lr_max=slice(1e-6, 1e-4))
lrs = [g['lr'] for g in learn.opt.param_groups]
assert lrs == sorted(lrs) and lrs[0] < lrs[-1]                       # discriminative: smallest for the earliest group
learn.recorder.plot_loss()
dls_fp = pets.dataloaders(path/'images', bs=8)
learn = vision_learner(dls_fp, ARCH, metrics=error_rate).to_fp16()
learn.fit(1)   # the book's fine_tune(6, freeze_epochs=3) in mixed precision, cut to one epoch on a CPU
import matplotlib.pyplot as plt; plt.close('all')
