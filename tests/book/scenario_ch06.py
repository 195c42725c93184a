"""Chapter 6 (multi-label, regression) as a reader types it on petbook: every name and signature the chapter's code uses.

Written for petbook (not copied from the book); see scenario_ch05.py.
"""
from petbook.all import *

ARCH = pick_arch(resnet18, verbose=False)
path = get_pascal()
df = pd.read_csv(path/'train.csv')
assert list(df.iloc[0].index[:3]) == ['fname', 'labels', 'is_valid'] and df.iloc[:, 0].equals(df['fname'])
tmp_df = pd.DataFrame({'a': [1, 2], 'b': [3, 4]}); tmp_df['c'] = tmp_df['a'] + tmp_df['b']

dblock = DataBlock()
dsets = dblock.datasets(df)
assert len(dsets.valid) == int(0.2 * len(df)) and len(dsets.train) + len(dsets.valid) == len(df)
x, y = dsets.train[0]
assert x['fname'] == y['fname']
dblock = DataBlock(get_x=lambda r: r['fname'], get_y=lambda r: r['labels'])
assert isinstance(dblock.datasets(df).train[0][0], str)
def get_x(r): return path/'train'/r['fname']
def get_y(r): return r['labels'].split(' ')
dblock = DataBlock(blocks=(ImageBlock, MultiCategoryBlock), get_x=get_x, get_y=get_y)
dsets = dblock.datasets(df)
idxs = torch.where(dsets.train[0][1] == 1.)[0]
names = dsets.train.vocab[idxs]
assert isinstance(names, L) and len(names) == len(idxs) and all(n in dsets.vocab for n in names)

def splitter(table):                                   # a plain function splitter: (train positions, valid positions)
    v = table['is_valid'].to_numpy(bool)
    return np.flatnonzero(~v).tolist(), np.flatnonzero(v).tolist()
dblock = DataBlock(blocks=(ImageBlock, MultiCategoryBlock), splitter=splitter, get_x=get_x, get_y=get_y,
                   item_tfms=RandomResizedCrop(64, min_scale=0.35))
dls = dblock.dataloaders(df)
assert len(dls.valid_ds) == int(df['is_valid'].sum())
dls.show_batch(nrows=1, ncols=3)

learn = cnn_learner(dls, ARCH)
x, y = to_cpu(dls.train.one_batch())
learn.model.cpu()
activs = learn.model(x)
assert activs.shape == (len(x), 20)
p_right = torch.where(y == 1, activs.sigmoid(), 1 - activs.sigmoid())   # BCE by hand: −log of the probability given to the truth
loss = nn.BCEWithLogitsLoss()(activs, y)
assert torch.allclose(-p_right.log().mean(), loss, atol=1e-5)
learn = cnn_learner(dls, ARCH, metrics=partial(accuracy_multi, thresh=0.2))
learn.fine_tune(1, base_lr=3e-3, freeze_epochs=1)
learn.metrics = partial(accuracy_multi, thresh=0.1)
v1 = learn.validate()
learn.metrics = partial(accuracy_multi, thresh=0.99)
v2 = learn.validate()
preds, targs = learn.get_preds()
assert abs(float(accuracy_multi(preds, targs, thresh=0.99, sigmoid=False)) - v2[1]) < 1e-5
xs = torch.linspace(0.05, 0.95, 29)
accs = [accuracy_multi(preds, targs, thresh=i, sigmoid=False) for i in xs]
plt.plot(xs, accs)

path = get_biwi()
Path.BASE_PATH = path
assert path.ls().sorted() == sorted(path.ls()) and (path/'01').ls().sorted()
img_files = get_image_files(path)
def img2pose(f): return f.with_name(f.name.replace('_rgb.jpg', '_pose.txt'))
assert img2pose(img_files[0]).exists()
im = PILImage.create(img_files[0])
assert len(im.shape) == 2 and max(im.to_thumb(160).shape) <= 160
cal = np.genfromtxt(path/'01'/'rgb.cal', skip_footer=6)     # the camera's intrinsics: fx, fy on the diagonal, centre in column 2
def get_ctr(f):                                              # the head centre (3-D, last line of the pose file) projected to pixels
    x, y, z = np.genfromtxt(img2pose(f), skip_header=3)
    return tensor([x / z * cal[0, 0] + cal[0, 2], y / z * cal[1, 1] + cal[1, 2]])
c = get_ctr(img_files[0]); assert 0 <= c[0] <= im.shape[1] and 0 <= c[1] <= im.shape[0]
biwi = DataBlock(blocks=(ImageBlock, PointBlock), get_items=get_image_files, get_y=get_ctr,
                 splitter=FuncSplitter(lambda o: o.parent.name == '13'),
                 batch_tfms=[*aug_transforms(size=(48, 64)), Normalize.from_stats(*imagenet_stats)])
dls = biwi.dataloaders(path)
dls.show_batch(max_n=9, figsize=(8, 6))
xb, yb = dls.one_batch()
assert xb.shape[1:] == (3, 48, 64) and yb.shape[1:] == (1, 2) and yb.abs().max() <= 1.5
learn = cnn_learner(dls, ARCH, y_range=(-1, 1))
def sigmoid_range(x, lo, hi): return torch.sigmoid(x) * (hi - lo) + lo
plot_function(partial(sigmoid_range, lo=-1, hi=1), min=-4, max=4)
assert isinstance(dls.loss_func, MSELossFlat)
learn.lr_find(num_it=12)
learn.fine_tune(1, 1e-2)
assert math.sqrt(0.0001) == 0.01
learn.show_results(ds_idx=1, nrows=3, figsize=(6, 8))
plt.close('all')
