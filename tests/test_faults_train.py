"""Faults in training, export and the workers (issue 24, items 3, 4, 6 and 10): training that goes wrong says so,
mixed precision never leaks, an export keeps the whole recipe, a dead DataLoader worker is named and replaced.

Part of the fault suite (marker `fault`). Each case failed on the code before issue 24's fixes.
"""
import math, os, signal, warnings
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from petbook.synth import draw_pet
from petbook.data import get_image_files, RandomSplitter, FuncSplitter
from petbook.augment import Resize, aug_transforms
from petbook.datablock import DataBlock, ImageBlock, CategoryBlock, PointBlock
from petbook.losses import CrossEntropyLossFlat
from petbook.learner import Learner, Callback, TrainingDiverged, NonFiniteData, CheckpointError, read_checkpoint
import petbook.schedule  # noqa: F401  (adds lr_find / fit_one_cycle to Learner)
import petbook.tricks    # noqa: F401  (adds to_fp16)

pytestmark = pytest.mark.fault


@pytest.fixture(scope='module')
def pets(tmp_path_factory):
    "Sixteen small drawn pets, two breeds."
    d = tmp_path_factory.mktemp('pets')/'images'; d.mkdir()
    for b in ('beagle', 'pug'):
        for i in range(8): draw_pet(b, seed=i, size=(64, 48)).save(d/f'{b}_{i}.jpg', quality=90)
    return d


def _dls(d, workers=0, **kw):
    kw = {'blocks': (ImageBlock, CategoryBlock), 'get_items': get_image_files, 'splitter': RandomSplitter(seed=3, valid_pct=0.25),
          'get_y': lambda p: p.name.split('_')[0], 'item_tfms': Resize(16), **kw}
    return DataBlock(**kw).dataloaders(d, bs=4, num_workers=workers, device='cpu')


def _model(n_out=2):
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, n_out))


def _finite(learn): return all(bool(torch.isfinite(v).all()) for v in learn.model.state_dict().values() if v.is_floating_point())


# ---------------------------------------------------------------- item 3: training that goes wrong says so
def test_a_huge_learning_rate_ends_in_training_diverged(pets):
    "fit(2, 1e9): the loss stays finite while the weights blow up in the last step; that must not pass in silence."
    learn = Learner(_dls(pets), _model())
    with pytest.warns(TrainingDiverged, match='learning rate') as w, learn.no_bar(): learn.fit(2, 1e9)
    assert 'lr_find' in str(w[0].message) and learn.diverged
    assert _finite(learn)                                                   # the last finite weights were put back
    with learn.no_bar(): learn.fit(1, 1e-3)                                 # and it trains again
    assert _finite(learn) and not learn.diverged


class _BlowUpValidation(Callback):
    "Finite training, then an infinite prediction in validation."
    def after_pred(self):
        if not self.learn.training: self.learn.pred = self.learn.pred * float('inf')


def test_a_non_finite_validation_loss_is_caught(pets):
    learn = Learner(_dls(pets), _model())
    with pytest.warns(TrainingDiverged, match='validation loss became'), learn.no_bar(): learn.fit(2, 1e-3, cbs=_BlowUpValidation())
    assert learn.diverged and learn.epoch == 0 and _finite(learn)


@pytest.mark.parametrize('lr', [-2e-3, 0, float('nan'), float('inf'), slice(-1e-3, 1e-3), [float('nan')]])
def test_unusable_learning_rates_are_refused_before_training(pets, lr):
    learn = Learner(_dls(pets), _model())
    w0 = {k: v.clone() for k, v in learn.model.state_dict().items()}
    for f in (lambda: learn.fit(1, lr), lambda: learn.fit_one_cycle(1, lr)):
        with pytest.raises(ValueError, match='positive, finite'), learn.no_bar(): f()
    for k, v in learn.model.state_dict().items(): assert torch.equal(v, w0[k]), k   # nothing trained
    assert learn.recorder.losses == []


@pytest.mark.parametrize('kw,needle', [({'start_lr': 0}, 'start_lr=0'), ({'start_lr': -1e-7}, 'start_lr'),
                                       ({'start_lr': 1, 'end_lr': 1e-3}, 'start_lr < end_lr'), ({'num_it': 0}, 'num_it=0'),
                                       ({'num_it': 2}, 'at least 3')])
def test_lr_find_checks_its_arguments(pets, kw, needle):
    learn = Learner(_dls(pets), _model())
    with pytest.raises(ValueError, match=needle) as e, learn.no_bar(): learn.lr_find(show_plot=False, **kw)
    assert 'diverged' not in str(e.value)                                   # not blamed on the learning rate


def _points(d, bad, valid):
    "A point per image at (10, 20); `bad`'s is NaN. `valid` names the items that go to the validation set."
    def get_y(p): return torch.tensor([[float('nan') if p.name == bad else 10., 20.]])
    return DataBlock(blocks=(ImageBlock, PointBlock), get_items=get_image_files, splitter=FuncSplitter(lambda p: p.name in valid),
                     get_y=get_y, item_tfms=Resize(16)).dataloaders(d, bs=4, num_workers=0, device='cpu')


@pytest.mark.parametrize('bad,valid', [('pug_3.jpg', {'beagle_0.jpg', 'beagle_1.jpg'}), ('beagle_1.jpg', {'beagle_0.jpg', 'beagle_1.jpg'})])
def test_nan_in_the_targets_is_named_before_training(pets, bad, valid):
    "NaN targets in the data (a training or a validation item) are named when the Datasets is built, before any training."
    from petbook.data import LabelError
    with pytest.raises(LabelError, match=rf"{bad}.*Fix or drop") as e: _points(pets, bad, valid)
    assert 'learning rate' not in str(e.value)


class _NanTarget(Callback):
    "A NaN target in the second item of training batch 2 (what a buggy transform or callback could make)."
    def before_batch(self):
        if self.learn.training and self.learn.iter == 1:
            y = self.learn.yb[0].clone(); y[1] = float('nan'); self.learn.yb = (y,)


def test_nan_in_the_targets_names_the_item_not_the_learning_rate(pets):
    dls = _points(pets, None, {'beagle_0.jpg', 'beagle_1.jpg'}); learn = Learner(dls, _model())
    with warnings.catch_warnings():
        warnings.simplefilter('error', TrainingDiverged)                   # not a divergence warning
        with pytest.raises(NonFiniteData, match='targets of batch 2 of the training set') as e, learn.no_bar():
            learn.fit(1, 1e-3, cbs=_NanTarget())
    msg = str(e.value); assert 'learning rate too high' not in msg
    named = [n for n in {p.name for p in dls.train.items} if n in msg]
    assert named == [dls.train.batch_items(1)[1]]                            # exactly the item that holds the NaN
    assert _finite(learn) and not learn.training and not learn.diverged


class _NanInput(Callback):
    "A NaN pixel in the second item of training batch 2."
    def before_batch(self):
        if self.learn.training and self.learn.iter == 1:
            x = self.learn.xb[0].clone(); x[1, 0, 0, 0] = float('nan'); self.learn.xb = (x,)


def test_nan_in_the_inputs_names_the_item(pets):
    dls = _dls(pets); learn = Learner(dls, _model())
    with pytest.raises(NonFiniteData, match='inputs of batch 2 of the training set') as e, learn.no_bar(): learn.fit(1, 1e-3, cbs=_NanInput())
    names = {p.name for p in dls.train.items}
    named = [n for n in names if n in str(e.value)]
    assert len(named) == 1                                                   # exactly the one item
    assert named[0] in dls.train.batch_items(1)


def test_lr_find_with_nan_targets_blames_the_data(pets):
    learn = Learner(_points(pets, None, {'beagle_0.jpg'}), _model(), cbs=[_NanTarget()])
    w0 = {k: v.clone() for k, v in learn.model.state_dict().items()}
    with pytest.raises(NonFiniteData, match='targets of batch 2'), learn.no_bar(): learn.lr_find(show_plot=False)
    for k, v in learn.model.state_dict().items(): assert torch.equal(v, w0[k]), k   # restored as always


# ---------------------------------------------------------------- item 4: autocast never leaks
class _Fail(Callback):
    "Raise inside the autocast region (after the forward pass, before the loss)."
    def __init__(self, exc): self.exc = exc
    def after_pred(self):
        if self.learn.training: raise self.exc


@pytest.mark.parametrize('exc', [RuntimeError('boom'), KeyboardInterrupt()])
def test_to_fp16_state_does_not_outlive_a_failed_fit(pets, exc):
    dls = _dls(pets)
    learn = Learner(dls, _model()).to_fp16()
    try:
        with pytest.raises(type(exc)), learn.no_bar(): learn.fit(1, 1e-3, cbs=_Fail(exc))
        assert not torch.is_autocast_enabled('cpu')
        plain = Learner(dls, _model())                                       # a new full-precision learner
        seen = []
        plain.model[-1].register_forward_hook(lambda m, i, o: seen.append(o.dtype))
        plain.get_preds(); plain.predict(dls.valid.items[0])
        assert seen and set(seen) == {torch.float32}, seen
    finally:
        torch.set_autocast_enabled('cpu', False)                              # never leak into the other tests, even on old code


# ---------------------------------------------------------------- item 6: a model file that can't be read
def test_unreadable_checkpoints_are_one_line_naming_the_file(pets, tmp_path):
    learn = Learner(_dls(pets), _model(), path=tmp_path); f = learn.save('good')
    (tmp_path/'text.pth').write_text('not a model\n')
    data = f.read_bytes(); (tmp_path/'cut.pth').write_bytes(data[:len(data) // 2])
    (tmp_path/'empty.pth').write_bytes(b'')
    for name in ('text.pth', 'cut.pth', 'empty.pth'):
        for load in (lambda p: learn.load(p), read_checkpoint):
            with pytest.raises(CheckpointError) as e: load(tmp_path/name)
            msg = str(e.value)
            assert str(tmp_path/name) in msg and '\n' not in msg, msg
            assert 'weights_only' not in msg, msg                            # no advice to unpickle what isn't a checkpoint
    torch.save({'model': nn.Linear(2, 2)}, tmp_path/'module.pth')           # a real checkpoint holding a pickled module
    with pytest.raises(CheckpointError, match='weights_only=False'): learn.load(tmp_path/'module.pth')


# ---------------------------------------------------------------- item 10: a worker killed mid-epoch
class _KillOnce:
    "An item transform that kills the worker process it runs in, once (while the flag file exists)."
    order = 100
    def __init__(self, flag): self.flag = flag
    def __call__(self, sample):
        if torch.utils.data.get_worker_info() is not None and self.flag.exists():
            self.flag.unlink(); os.kill(os.getpid(), signal.SIGKILL)
        return sample


@pytest.fixture
def watchdog():
    "Fail this test instead of hanging CI: a generous bound (a hang guard, not a timing test)."
    def hang(*_): raise TimeoutError("the killed-worker test ran over 300 s: the DataLoader hangs")
    old = signal.signal(signal.SIGALRM, hang); signal.alarm(300)
    yield
    signal.alarm(0); signal.signal(signal.SIGALRM, old)


@pytest.mark.skipif(not hasattr(signal, 'SIGALRM'), reason='needs POSIX signals')
def test_a_killed_worker_is_named_and_the_next_fit_works(pets, tmp_path, watchdog):
    flag = tmp_path/'kill'
    dls = _dls(pets, workers=2, item_tfms=[Resize(16), _KillOnce(flag)])
    learn = Learner(dls, _model())
    with learn.no_bar(): learn.fit(1, 1e-3)                                  # workers started (and kept, between epochs)
    flag.touch()
    with pytest.raises(RuntimeError) as e, learn.no_bar(): learn.fit(1, 1e-3)
    msg = str(e.value)
    assert 'DataLoader worker' in msg and 'while loading' in msg and 'training set' in msg, msg
    assert any(p.name in msg for p in dls.train.items), msg                 # names the item it was loading
    assert not flag.exists() and not learn.training
    with learn.no_bar(): learn.fit(1, 1e-3)                                  # new workers: the next fit works
    assert math.isfinite(learn.recorder.values[-1][0])
    assert len(learn.recorder.losses) == len(dls.train)


# ---------------------------------------------------------------- item 6: an export keeps the whole recipe
from petbook.datablock import MultiCategoryBlock
from petbook.vision import vision_learner, resnet18
from petbook.inference import load_learner


def _vision(dls, **kw):
    torch.manual_seed(0)
    return vision_learner(dls, resnet18, pretrained=False, **kw)


def test_multi_label_export_predicts_with_sigmoid_and_the_threshold(pets, tmp_path):
    dls = _dls(pets, blocks=(ImageBlock, MultiCategoryBlock), get_y=lambda p: [p.name.split('_')[0], 'animal'])
    learn = _vision(dls); learn.loss_func.thresh = 0.3
    f = learn.export(tmp_path/'multi.pth'); pred = load_learner(f, device='cpu')
    img = dls.valid.items[0]
    labels, mask, probs = pred.predict(img)
    l2, m2, p2 = learn.predict(img)
    torch.testing.assert_close(probs, p2, rtol=0, atol=1e-5)                   # sigmoid, as the learner: not softmax
    assert labels == list(l2) and torch.equal(mask, m2) and pred.thresh == 0.3
    assert labels == [v for v, q in zip(dls.vocab, probs.tolist()) if q > 0.3]
    assert abs(float(probs.sum()) - 1) > 1e-3                                   # independent probabilities


def _point_dls(d, item_tfms):
    return DataBlock(blocks=(ImageBlock, PointBlock), get_items=get_image_files, splitter=RandomSplitter(seed=3, valid_pct=0.25),
                     get_y=lambda p: torch.tensor([[10., 20.]]), item_tfms=item_tfms).dataloaders(d, bs=4, num_workers=0, device='cpu')


@pytest.mark.parametrize('method', ['crop', 'squish', 'pad'])
def test_points_export_predicts_pixels_of_the_original_image(pets, tmp_path, method):
    dls = _point_dls(pets, Resize((24, 32), method=method, pad_mode='zeros'))
    learn = _vision(dls, y_range=(-1, 1))
    f = learn.export(tmp_path/'points.pth'); pred = load_learner(f, device='cpu')
    img = dls.valid.items[0]
    pts, norm, out = pred.predict(img)
    _, raw, _ = learn.predict(img)
    torch.testing.assert_close(norm.flatten(), raw.flatten(), rtol=0, atol=1e-5)
    # independent of to_pixels: a point moved through Resize and PointBlock's scaling comes back where it started
    r = dls.valid.item_tfms[0]; from PIL import Image as _I; size = _I.open(img).size
    xy = torch.tensor([[10., 20.], [50., 40.]])
    moved = r.apply_points(xy, size, (0.5, 0.5)) / torch.tensor([32., 24.]) * 2 - 1
    torch.testing.assert_close(pred.to_pixels(moved, size), xy, rtol=0, atol=1e-4)
    assert pts.shape == (1, 2)


def test_pad_zeros_survives_export(pets, tmp_path):
    dls = _dls(pets, item_tfms=Resize((24, 32), method='pad', pad_mode='zeros'))
    f = _vision(dls).export(tmp_path/'pad.pth'); pred = load_learner(f, device='cpu')
    assert (pred.item_tfms[0].method, pred.item_tfms[0].pad_mode) == ('pad', 'zeros')
    xb = dls.valid.one_batch()[0]
    for k in range(2): assert torch.equal(pred.batch(dls.valid.items[k]), xb[k:k + 1])   # the same zeros at the edges


def test_crafted_exports_are_one_line_naming_the_file(pets, tmp_path):
    f = _vision(_dls(pets)).export(tmp_path/'good.pth')
    good = torch.load(f, weights_only=True)
    crafts = {'no_vocab': lambda s: s['meta'].pop('vocab'), 'arch_list': lambda s: s['meta'].update(arch=['resnet18']),
              'size_zero': lambda s: s['meta']['item_tfms'][0]['args'].update(size=[0, 0]),
              'tfm_junk': lambda s: s['meta'].update(item_tfms=[{'name': 'Resize'}]), 'task': lambda s: s['meta'].update(task='segmentation'),
              'weights': lambda s: s['model'].pop(next(iter(s['model']))), 'meta_list': lambda s: s.update(meta=[1, 2])}
    for name, craft in crafts.items():
        s = torch.load(f, weights_only=True); craft(s); torch.save(s, tmp_path/f'{name}.pth')
        with pytest.raises(ValueError) as e: load_learner(tmp_path/f'{name}.pth', device='cpu')
        msg = str(e.value)
        assert str(tmp_path/f'{name}.pth') in msg and '\n' not in msg and 'weights_only' not in msg, (name, msg)
    data = f.read_bytes(); (tmp_path/'cut.pth').write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match='truncated'): load_learner(tmp_path/'cut.pth')
    assert good['meta']['task'] == 'single'


def test_the_same_seed_gives_the_same_batches_with_kept_workers(watchdog):
    "Persistent workers keep their random state from pass to pass: each pass seeds every item from the caller's stream."
    from petbook.data import get_pets, using_attr, RegexLabeller
    path = get_pets('generated', n_per_breed=6, verbose=False)          # enough batches that a pass outlasts the prefetch
    dls = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, splitter=RandomSplitter(seed=42),
                    get_y=using_attr(RegexLabeller(r'(.+)_\d+.jpg$'), 'name'), item_tfms=Resize(64),
                    batch_tfms=aug_transforms(size=48, min_scale=0.75)).dataloaders(path/'images', bs=16, num_workers=2)
    dls.one_batch()                                          # the workers start and draw (and keep) their state
    torch.manual_seed(7); a = dls.train.one_batch(); b = dls.train.one_batch()
    torch.manual_seed(7); a2 = dls.train.one_batch()
    assert torch.equal(a[1], a2[1]) and torch.equal(a[0], a2[0])   # the same items, cropped alike
    assert not torch.equal(a[0], b[0])                       # … and successive passes still differ
