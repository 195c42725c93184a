"""The fault suite: messy images, DataBlock mistakes, and training that goes wrong.

Every case asserts a clear message that names the file / step / shape involved and that nothing is lost
(weights, optimiser state, the ability to train again). The download faults live in test_download.py and are
part of the same suite (marker `fault`); `pytest` prints the suite's count of cases at the end.
"""
import copy, math, pickle, time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from PIL import Image

from petbook.data import verify_images, get_image_files, RegexLabeller, RandomSplitter, FuncSplitter, LabelError
from petbook.synth import draw_pet
from petbook.augment import load_rgb, open_image, ImageError, Resize
from petbook.datablock import DataBlock, ImageBlock, CategoryBlock, PointBlock, MultiCategoryBlock
from petbook.losses import CrossEntropyLossFlat
from petbook.learner import Learner, Callback, TrainingDiverged, error_rate
import petbook.schedule  # noqa: F401  (adds lr_find / fit_one_cycle to Learner)
import petbook.tricks    # noqa: F401  (adds to_fp16)

pytestmark = pytest.mark.fault

BREEDS = ['beagle', 'pug']


def _exif_rotated(path):
    "A JPEG stored sideways (40 wide × 60 high, red at the stored top) with EXIF orientation 6: upright it is 60 × 40, red at the right."
    a = np.zeros((60, 40, 3), np.uint8); a[:] = (0, 0, 255); a[:15] = (255, 0, 0)
    im = Image.fromarray(a); exif = im.getexif(); exif[0x0112] = 6
    im.save(path, 'JPEG', exif=exif.tobytes(), quality=95)


@pytest.fixture(scope='module')
def messy(tmp_path_factory):
    "A pets folder like a real scrape: good JPEGs plus every kind of odd or broken file beginners meet."
    d = tmp_path_factory.mktemp('messy')/'images'; d.mkdir()
    for b in BREEDS:
        for i in range(8): draw_pet(b, seed=i, size=(200, 160)).save(d/f'{b}_{i}.jpg', quality=90)
    pet = draw_pet('pug', seed=100, size=(200, 160))
    pet.save(d/'pug_truncated.jpg', quality=90); data = (d/'pug_truncated.jpg').read_bytes()
    (d/'pug_truncated.jpg').write_bytes(data[:len(data) // 3])
    (d/'beagle_empty.jpg').write_bytes(b'')
    pet.save(d/'pug_png_named.jpg', 'PNG')
    pet.convert('L').save(d/'pug_gray.jpg', quality=90)
    pet.convert('CMYK').save(d/'beagle_cmyk.jpg', quality=90)
    rgba = pet.convert('RGBA'); a = np.asarray(rgba).copy(); a[:10, :, 3] = 0; Image.fromarray(a).save(d/'pug_rgba.png')
    a16 = np.full((160, 200), 65535, np.uint16); a16[:, 100:] = 32768; Image.fromarray(a16).save(d/'beagle_16bit.png')   # 16-bit grey
    _exif_rotated(d/'beagle_exif.jpg')
    big = Image.new('RGB', (8000, 6000), (40, 120, 200)); big.save(d/'pug_huge.jpg', quality=80)
    return d


BROKEN = {'pug_truncated.jpg', 'beagle_empty.jpg'}


def _block(**kw):
    kw = {'blocks': (ImageBlock, CategoryBlock), 'get_items': get_image_files, 'splitter': RandomSplitter(seed=3),
          'get_y': lambda p: p.name.split('_')[0], 'item_tfms': Resize(32), **kw}
    return DataBlock(**kw)


def _tiny_model(n_out=2):
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, n_out))


@pytest.fixture
def clean_dls(messy, tmp_path):
    "The messy folder after `verify_images` and deleting what it lists (copied, so the module fixture stays messy)."
    d = tmp_path/'images'; d.mkdir()
    for f in messy.iterdir(): (d/f.name).write_bytes(f.read_bytes())
    for f in verify_images(get_image_files(d)): f.unlink()
    return _block().dataloaders(d, bs=4, num_workers=0)


def _learner(dls, **kw):
    return Learner(dls, _tiny_model(len(dls.vocab)), loss_func=CrossEntropyLossFlat(), **kw)


# ---------------------------------------------------------------- images
def test_verify_images_lists_exactly_the_broken(messy):
    assert {f.name for f in verify_images(get_image_files(messy))} == BROKEN


@pytest.mark.parametrize('name', ['pug_truncated.jpg', 'beagle_empty.jpg'])
def test_broken_file_error_names_the_file(messy, name):
    with pytest.raises(ImageError, match=name) as e: load_rgb(messy/name)
    assert 'verify_images' in str(e.value)                     # and says what to do


@pytest.mark.parametrize('name', ['pug_png_named.jpg', 'pug_gray.jpg', 'beagle_cmyk.jpg', 'pug_rgba.png', 'beagle_16bit.png'])
def test_odd_but_readable_files_become_rgb(messy, name):
    im = load_rgb(messy/name)
    assert im.mode == 'RGB' and im.size == (200, 160)


def test_rgba_transparency_is_white_and_16bit_is_rescaled(messy):
    assert np.asarray(load_rgb(messy/'pug_rgba.png'))[:10].min() == 255                 # transparent rows on white
    g = np.asarray(load_rgb(messy/'beagle_16bit.png'))
    assert g[:, :100].min() == 255 and (g[:, 100:] == 128).all()                          # 16 bits rescaled to 8, not clipped


def test_exif_rotated_photo_is_upright(messy):
    a = np.asarray(load_rgb(messy/'beagle_exif.jpg'))
    assert a.shape == (40, 60, 3)                                                       # rotated 90°: width and height swap
    assert a[20, -5, 0] > 200 and a[20, -5, 2] < 60 and a[20, 5, 2] > 200               # the stored top (red) is now the right side
    b = Resize(30)((open_image(messy/'beagle_exif.jpg'),), split_idx=1)[0]             # and through the JPEG draft path (centre crop)
    b = np.asarray(b); assert b.shape == (30, 30, 3) and b[15, -2, 0] > 200


def test_huge_image_decodes_small(messy):
    im = open_image(messy/'pug_huge.jpg'); w, h = im.size
    out = Resize(64)((im,))[0]
    assert np.asarray(out).shape == (64, 64, 3)
    # JPEG draft: the decoder was asked for 1/8 scale, so the 48-MP image was never decoded whole (what makes it fast)
    assert im.size[0] <= -(-w // 8) and im.size[1] <= -(-h // 8), (im.size, (w, h))


@pytest.mark.parametrize('workers', [0, 2])
def test_training_stops_with_the_broken_files_name(messy, workers):
    dls = _block().dataloaders(messy, bs=4, num_workers=workers)
    learn = _learner(dls)
    with pytest.raises(ImageError) as e: learn.fit(1)
    msg = str(e.value)
    assert any(b in msg for b in BROKEN) and 'verify_images' in msg
    assert 'Traceback' not in msg                                                        # not a worker's traceback dump
    assert not learn.training                                                            # and the learner is usable after
    assert all(torch.isfinite(p).all() for p in learn.model.parameters())


def test_training_uses_the_readable_odd_files(clean_dls):
    names = {Path(p).name for p in clean_dls.train.items + clean_dls.valid.items}
    assert {'pug_gray.jpg', 'beagle_cmyk.jpg', 'pug_rgba.png', 'beagle_16bit.png', 'beagle_exif.jpg', 'pug_huge.jpg'} <= names
    assert not names & BROKEN
    xb, yb = clean_dls.one_batch(); assert xb.shape == (4, 3, 32, 32) and xb.dtype == torch.float32
    learn = _learner(clean_dls, metrics=error_rate)
    with learn.no_bar(): learn.fit(1, 1e-3)
    assert math.isfinite(learn.recorder.values[-1][0])


# ---------------------------------------------------------------- DataBlock mistakes
def test_regex_that_does_not_match_names_file_and_pattern(messy):
    with pytest.raises(LabelError) as e:
        _block(get_y=lambda p: RegexLabeller(r'^(.+)-\d+\.jpg$')(p.name)).dataloaders(messy)
    assert r'(.+)-\d+\.jpg' in str(e.value) and '.jpg' in str(e.value) and 'did not match' in str(e.value)


@pytest.mark.parametrize('get_y,blocks,needle', [
    (lambda p: [p.name], (ImageBlock, CategoryBlock), 'MultiCategoryBlock'),
    (lambda p: None, (ImageBlock, CategoryBlock), 'returned None for item'),
    (lambda p: 'a b', (ImageBlock, MultiCategoryBlock), '*list*'),
    (lambda p: 'centre', (ImageBlock, PointBlock), 'pixel coordinates'),
])
def test_get_y_of_the_wrong_type(messy, get_y, blocks, needle):
    with pytest.raises(LabelError) as e: _block(blocks=blocks, get_y=get_y).dataloaders(messy, num_workers=0)
    assert needle in str(e.value)


def test_datablock_without_resize_says_add_resize(tmp_path):
    d = tmp_path/'sizes'; d.mkdir()
    for i, size in enumerate([(200, 160), (150, 210), (200, 160), (170, 170)] * 2): draw_pet(BREEDS[i % 2], seed=i, size=size).save(d/f'{BREEDS[i % 2]}_{i}.jpg')
    dls = _block(item_tfms=None).dataloaders(d, bs=4, num_workers=0)
    with pytest.raises(Exception) as e: dls.one_batch()
    msg = str(e.value)
    assert 'Resize' in msg and '160, 200' in msg, msg


def test_empty_validation_set(messy):
    with pytest.raises(ValueError, match='validation set empty'):
        _block(splitter=FuncSplitter(lambda p: False)).dataloaders(messy)


def test_batch_size_larger_than_training_set(messy):
    with pytest.raises(ValueError, match='larger than the'): _block().dataloaders(messy, bs=1000)


# ---------------------------------------------------------------- training faults
class _BadLoss:
    "Cross-entropy that returns `value` on call number `at` (counting training calls)."
    def __init__(self, value, at): self.f, self.value, self.at, self.n = CrossEntropyLossFlat(), value, at, 0
    def __call__(self, inp, targ):
        loss = self.f(inp, targ)
        if inp.requires_grad:
            self.n += 1
            if self.n == self.at: return loss * self.value
        return loss
    def activation(self, x): return self.f.activation(x)
    def decodes(self, x): return self.f.decodes(x)


class _Snap(Callback):
    "Keeps a copy of the weights just before each training batch."
    def before_batch(self):
        if self.learn.training: self.last = copy.deepcopy(self.learn.model.state_dict())


@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
def test_non_finite_loss_stops_and_keeps_last_good_weights(clean_dls, bad):
    learn = Learner(clean_dls, _tiny_model(), loss_func=_BadLoss(bad, at=3))
    snap = _Snap()
    with pytest.warns(TrainingDiverged, match=r'epoch 1, batch 3') as w, learn.no_bar(): learn.fit(2, 1e-3, cbs=snap)
    assert 'lr_find' in str(w[0].message)
    assert learn.diverged and learn.epoch == 0                                          # stopped in epoch 1, not later
    for k, v in learn.model.named_parameters():                                          # the bad batch's update was not applied
        torch.testing.assert_close(v.detach(), snap.last[k], rtol=0, atol=0)
    learn.loss_func = CrossEntropyLossFlat()
    with learn.no_bar(): learn.fit(1, 1e-3)                                              # and it trains again
    assert math.isfinite(learn.recorder.values[-1][0])


def test_lr_find_on_a_model_that_diverges_at_once_restores_everything(clean_dls):
    learn = _learner(clean_dls)
    with learn.no_bar(): learn.fit(1, 1e-3)                                              # an optimiser with state
    before = copy.deepcopy(learn.model.state_dict()); opt_before = copy.deepcopy(learn.opt.state_dict())
    with pytest.raises(RuntimeError, match='diverged after .* batches.*smaller start_lr'), learn.no_bar():
        learn.lr_find(start_lr=1e4, end_lr=1e7, num_it=10, show_plot=False)
    for k, v in learn.model.state_dict().items(): assert torch.equal(v, before[k]), k
    opt_after = learn.opt.state_dict()
    for i, st in opt_before['state'].items():
        for k, v in st.items(): assert torch.equal(torch.as_tensor(v), torch.as_tensor(opt_after['state'][i][k])), (i, k)
    assert [g['lr'] for g in opt_after['param_groups']] == [g['lr'] for g in opt_before['param_groups']]


class _Interrupt(Callback):
    def after_batch(self):
        if self.learn.training and self.learn.iter == 1: raise KeyboardInterrupt


def test_keyboard_interrupt_mid_epoch_leaves_a_usable_learner(clean_dls):
    learn = _learner(clean_dls)
    with pytest.raises(KeyboardInterrupt), learn.no_bar(): learn.fit(3, 1e-3, cbs=_Interrupt())
    assert not learn.training and not learn.model.training
    assert not any(isinstance(c, _Interrupt) for c in learn.cbs)                       # the fit's callback is gone
    with learn.no_bar(): learn.fit(1, 1e-3)
    assert math.isfinite(learn.recorder.values[-1][0])


def test_load_checkpoint_from_another_architecture(clean_dls, tmp_path):
    learn = _learner(clean_dls, path=tmp_path); learn.save('small')
    other = Learner(clean_dls, nn.Sequential(nn.Conv2d(3, 16, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 2)),
                    loss_func=CrossEntropyLossFlat(), path=tmp_path)
    with pytest.raises(ValueError, match='does not fit this model') as e: other.load('small')
    assert 'small.pth' in str(e.value) and 'architecture' in str(e.value)


def test_load_checkpoint_with_another_vocabulary(clean_dls, messy, tmp_path):
    learn = _learner(clean_dls, path=tmp_path); learn.save('pets')
    relabelled = _block(get_y=lambda p: 'dog' if p.name.startswith('beagle') else 'cat')
    d = clean_dls.train.items[0].parent
    other = Learner(relabelled.dataloaders(d, bs=4, num_workers=0), _tiny_model(), loss_func=CrossEntropyLossFlat(), path=tmp_path)
    with pytest.raises(ValueError, match='different vocabulary') as e: other.load('pets')
    assert 'beagle' in str(e.value) or 'cat' in str(e.value)


def test_load_refuses_pickled_code(clean_dls, tmp_path):
    "weights_only=True: a checkpoint that would run code when unpickled is refused, not executed."
    class Evil:
        def __reduce__(self): return (Path.touch, (tmp_path/'pwned',))
    (tmp_path/'models').mkdir(); torch.save({'model': Evil()}, tmp_path/'models'/'evil.pth')
    learn = _learner(clean_dls, path=tmp_path)
    with pytest.raises(pickle.UnpicklingError): learn.load('evil')
    assert not (tmp_path/'pwned').exists()


def test_to_fp16_on_cpu_uses_bfloat16_with_a_note(clean_dls, capsys):
    learn = _learner(clean_dls).to_fp16()
    assert 'bfloat16' in capsys.readouterr().out
    with learn.no_bar(): learn.fit(1, 1e-3)
    preds, _ = learn.get_preds()
    assert preds.dtype == torch.float32 and torch.isfinite(preds).all()
