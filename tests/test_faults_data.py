"""The fault suite, data side (issue 24 items 5, 7, 9): EXIF-rotated photos with points, labels from messy CSVs,
files that are not files, and images with far too many pixels.

Every case fails on petbook before issue 24 and asserts a clear message (naming the file or the rows) or a warning;
none of them measures time — a hang is caught by a generous guard that fails the test rather than the whole run.
"""
import os, struct, threading, warnings, zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image, ImageFile

from petbook.data import verify_images, get_image_files, ColReader, ColSplitter, RandomSplitter, LabelError
from petbook.augment import load_rgb, open_image, ImageError, Resize, RandomResizedCrop, Points
from petbook.datablock import DataBlock, ImageBlock, CategoryBlock, MultiCategoryBlock, PointBlock
from petbook.synth import draw_pet

pytestmark = pytest.mark.fault


# ---------------------------------------------------------------- item 5: EXIF rotation, the JPEG draft and points
def _rotated_dot(path, x, y, size=(640, 480)):
    "A JPEG stored sideways with EXIF orientation 6, upright `size` (w, h) with a bright dot centred at upright (x, y)."
    w, h = size
    a = np.full((h, w, 3), 30, np.uint8); a[y - 4:y + 5, x - 4:x + 5] = 255
    stored = Image.fromarray(a).transpose(Image.Transpose.ROTATE_90)           # what the camera wrote: w and h swapped
    exif = stored.getexif(); exif[0x0112] = 6                                   # "rotate 90° clockwise to view"
    stored.save(path, 'JPEG', exif=exif.tobytes(), quality=95)
    return path

def _peak(img):
    "(x, y) of the centre of the brightest pixels."
    a = np.asarray(img).astype(np.float32).mean(-1); ys, xs = np.nonzero(a >= a.max() * 0.8)
    return xs.mean() + 0.5, ys.mean() + 0.5                                     # pixel centres: x from 0 at the left edge

@pytest.mark.parametrize('tfm', [Resize(64), Resize(64, method='squish'), Resize((48, 80), method='pad'),
                                 RandomResizedCrop(64, min_scale=0.9)])
@pytest.mark.parametrize('split', [0, 1])
@pytest.mark.parametrize('xy', [(300, 200), (250, 290)])
def test_points_on_an_exif_rotated_jpeg_follow_the_dot(tmp_path, tfm, split, xy):
    f = _rotated_dot(tmp_path/'rot.jpg', *xy)
    up = load_rgb(f); assert up.size == (640, 480) and np.allclose(_peak(up), (xy[0] + .5, xy[1] + .5), atol=1)
    torch.manual_seed(0)
    im = open_image(f)
    out, pts = tfm((im, Points([[xy[0] + .5, xy[1] + .5]])), split_idx=split)
    assert im.size[0] * im.size[1] < 640 * 480 / 3, im.size                      # the JPEG draft was used: fewer pixels decoded
    px, py = _peak(out); (tx, ty), = pts.xy.tolist()
    assert abs(px - tx) < 2 and abs(py - ty) < 2, ((px, py), (tx, ty))          # the target is where the dot is


def test_issue_example_rotated_dot(tmp_path):
    "The issue's case: a dot at (10, 53) after Resize(64) got a target scaled by the draft factor, far outside the image."
    f = _rotated_dot(tmp_path/'rot.jpg', 10, 53)
    _, pts = Resize(64, method='squish')((open_image(f), Points([[10, 53]])), split_idx=1)
    assert torch.allclose(pts.xy, torch.tensor([[10 * 64 / 640, 53 * 64 / 480]]), atol=1e-4), pts


# ---------------------------------------------------------------- item 7: labels from CSVs
@pytest.fixture(scope='module')
def pics(tmp_path_factory):
    d = tmp_path_factory.mktemp('csv')
    for i in range(8): draw_pet('pug' if i % 2 else 'beagle', seed=i, size=(80, 60)).save(d/f'p{i}.jpg', quality=90)
    return d

def _df(**cols):
    n = len(next(iter(cols.values())))
    return pd.DataFrame({'fname': [f'p{i}.jpg' for i in range(n)], **cols})

def _single(pics, **kw):
    return DataBlock(blocks=(ImageBlock, CategoryBlock), get_x=ColReader('fname', pref=f'{pics}/'), get_y=ColReader('label'),
                     item_tfms=Resize(32), **kw)

def test_empty_label_cell_names_the_rows(pics, tmp_path):
    (tmp_path/'l.csv').write_text('fname,label\n' + ''.join(f'p{i}.jpg,{"" if i in (2, 5) else "pug"  if i % 2 else "beagle"}\n' for i in range(8)))
    df = pd.read_csv(tmp_path/'l.csv')
    with pytest.raises(LabelError, match=r'empty') as e: _single(pics).datasets(df)
    assert 'p2.jpg' in str(e.value) and 'p5.jpg' in str(e.value) and 'p3.jpg' not in str(e.value)

@pytest.mark.parametrize('cell', ['', '   '])
def test_blank_label_string_is_not_a_class(pics, cell):
    df = _df(label=['pug', 'beagle', cell, 'pug', 'beagle', 'pug', 'beagle', 'pug'])
    with pytest.raises(LabelError, match='p2.jpg'): _single(pics).datasets(df)

def test_single_class_is_refused(pics):
    df = _df(label=['pug'] * 8)
    with pytest.raises(LabelError, match=r"every training label is 'pug'.*two classes"): _single(pics).datasets(df)

def test_empty_is_valid_cell_names_the_rows(tmp_path):
    (tmp_path/'v.csv').write_text('fname,is_valid\n' + ''.join(f'p{i}.jpg,{"" if i == 3 else i % 2 == 0}\n' for i in range(6)))
    df = pd.read_csv(tmp_path/'v.csv')
    with pytest.raises(LabelError, match=r"is_valid.*\b3\b") as e: ColSplitter()(df)
    assert 'empty' in str(e.value)
    with pytest.raises(LabelError, match="'maybe'"): ColSplitter()(pd.DataFrame({'is_valid': [True, 'maybe']}))
    assert ColSplitter()(pd.DataFrame({'is_valid': ['True', 'false', 1, 0, 'yes', 'no']})) == ([1, 3, 5], [0, 2, 4])

def test_multilabel_empty_cells_and_double_spaces_add_no_empty_class(pics, tmp_path):
    (tmp_path/'m.csv').write_text('fname,labels\np0.jpg,dog\np1.jpg,\np2.jpg,dog  person\np3.jpg,cat\np4.jpg,cat dog\n')
    df = pd.read_csv(tmp_path/'m.csv')
    everything = lambda items: (list(range(len(items))), [])                 # all in training: the vocabulary sees every label
    db = DataBlock(blocks=(ImageBlock, MultiCategoryBlock), get_x=ColReader('fname', pref=f'{pics}/'), splitter=everything,
                   get_y=ColReader('labels', label_delim=' '), item_tfms=Resize(32))
    with pytest.warns(UserWarning, match='p1.jpg'): ds = db.datasets(df)      # an item with no labels at all: said, not hidden
    assert list(ds.vocab) == ['cat', 'dog', 'person']
    book = DataBlock(blocks=(ImageBlock, MultiCategoryBlock), get_x=ColReader('fname', pref=f'{pics}/'),
                     get_y=lambda r: r['labels'].split(' ') if isinstance(r['labels'], str) else [], item_tfms=Resize(32), splitter=everything)
    with pytest.warns(UserWarning, match=r"p2\.jpg"): ds = book.datasets(df)  # the book's get_y: the double space is named
    assert '' not in list(ds.vocab)

def test_points_outside_the_image_name_the_file(pics):
    items = [pics/f'p{i}.jpg' for i in range(4)]
    w, h = Image.open(items[0]).size
    pts = {'p0.jpg': [w / 2, h / 2], 'p1.jpg': [w, h], 'p2.jpg': [w + 100, 10], 'p3.jpg': [10, -4]}
    db = DataBlock(blocks=(ImageBlock, PointBlock), get_y=lambda f: torch.tensor(pts[f.name], dtype=torch.float32),
                   item_tfms=Resize(32))
    ds = db.datasets(items)
    Resize(32)(ds[0], split_idx=1); RandomResizedCrop(32)(ds[1], split_idx=0)   # inside, or on the edge: fine
    with pytest.raises(LabelError, match=rf'p2\.jpg.*outside.*{w} × {h}'): Resize(32)(ds[2], split_idx=1)
    with pytest.raises(LabelError, match=r'p3\.jpg'): RandomResizedCrop(32)(ds[3], split_idx=0)


# ---------------------------------------------------------------- item 9: not a file; far too many pixels
def _guard(fn, fifo=None, seconds=60):
    "Run `fn` in a thread; if it has not returned after `seconds` it hangs: unblock it (open the FIFO's other end) and fail."
    res = {}
    def run():
        try: res['value'] = fn()
        except BaseException as e: res['error'] = e
    t = threading.Thread(target=run, daemon=True); t.start(); t.join(seconds)
    if t.is_alive():
        if fifo is not None:
            try: os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError: pass
        pytest.fail(f"{getattr(fn, '__name__', fn)} hung on a FIFO")
    if 'error' in res: raise res['error']
    return res.get('value')

@pytest.fixture
def with_fifo(tmp_path):
    d = tmp_path/'images'; d.mkdir()
    for i in range(4): draw_pet('pug' if i % 2 else 'beagle', seed=i, size=(80, 60)).save(d/f'{"pug" if i % 2 else "beagle"}_{i}.jpg')
    os.mkfifo(d/'pug_fifo.jpg')
    return d

def test_fifo_is_skipped_by_get_image_files_and_listed_by_verify_images(with_fifo):
    with pytest.warns(UserWarning, match='pug_fifo.jpg'): files = _guard(lambda: get_image_files(with_fifo), with_fifo/'pug_fifo.jpg')
    assert len(files) == 4 and 'pug_fifo.jpg' not in {f.name for f in files}
    assert _guard(lambda: verify_images([with_fifo/'pug_fifo.jpg', *files]), with_fifo/'pug_fifo.jpg') == [with_fifo/'pug_fifo.jpg']

def test_fifo_named_jpg_is_an_image_error_not_a_hang(with_fifo):
    f = with_fifo/'pug_fifo.jpg'
    with pytest.raises(ImageError, match='pug_fifo.jpg.*not a regular file'): _guard(lambda: open_image(f), f)
    with pytest.raises(ImageError, match='pug_fifo.jpg'): _guard(lambda: load_rgb(f), f)

def test_training_on_a_folder_with_a_fifo_runs(with_fifo):
    db = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, get_y=lambda p: p.name.split('_')[0],
                   splitter=RandomSplitter(0.25, seed=0), item_tfms=Resize(32))
    with warnings.catch_warnings(): warnings.simplefilter('ignore'); dls = _guard(lambda: db.dataloaders(with_fifo, bs=2, num_workers=0))
    xb, yb = _guard(dls.one_batch, with_fifo/'pug_fifo.jpg')
    assert xb.shape == (2, 3, 32, 32)


def test_predict_on_a_fifo_is_an_image_error(with_fifo):
    from petbook.learner import Learner
    from petbook.losses import CrossEntropyLossFlat
    db = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, get_y=lambda p: p.name.split('_')[0],
                   splitter=RandomSplitter(0.25, seed=0), item_tfms=Resize(32))
    with warnings.catch_warnings(): warnings.simplefilter('ignore'); dls = db.dataloaders(with_fifo, bs=2, num_workers=0)
    learn = Learner(dls, torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LazyLinear(2)), loss_func=CrossEntropyLossFlat())
    f = with_fifo/'pug_fifo.jpg'
    with pytest.raises(ImageError, match='pug_fifo.jpg.*not a regular file'): _guard(lambda: learn.predict(f), f)

def _png_header_only(path, w, h):
    "A valid 1-bit greyscale PNG of w × h, all black: a few KB on disk, w·h pixels once decoded."
    row = b'\x00' + bytes((w + 7) // 8)
    z = zlib.compressobj(9); body = b''.join(z.compress(row) for _ in range(h)) + z.flush()
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 1, 0, 0, 0, 0)) + chunk(b'IDAT', body) + chunk(b'IEND', b''))
    return path

@pytest.fixture
def decoded(monkeypatch):
    "Records the size of every image PIL actually decodes (ImageFile.load)."
    sizes, real = [], ImageFile.ImageFile.load
    def load(self):
        if self.tile: sizes.append(self.size)                                   # not yet decoded: this call decodes it
        return real(self)
    monkeypatch.setattr(ImageFile.ImageFile, 'load', load)
    return sizes

def test_huge_png_is_refused_before_decoding(tmp_path, decoded):
    f = _png_header_only(tmp_path/'huge.png', 12000, 12000)
    assert f.stat().st_size < 2_000_000
    with pytest.raises(ImageError, match=r'huge\.png.*144.*PETBOOK_MAX_PIXELS') as e: load_rgb(f)
    with pytest.raises(ImageError, match=r'huge\.png'): Resize(64)((open_image(f),), split_idx=1)
    assert decoded == []                                                        # not one pixel decoded
    with pytest.warns(UserWarning, match='huge.png'): assert verify_images([f]) == [f]
    assert decoded == []

def test_pixel_limit_can_be_raised(tmp_path, monkeypatch, decoded):
    f = _png_header_only(tmp_path/'big.png', 2000, 1500)                       # 3 MP: fine by default
    assert load_rgb(f).size == (2000, 1500)
    monkeypatch.setenv('PETBOOK_MAX_PIXELS', '1_000_000')
    with pytest.raises(ImageError, match=r'big\.png.*3\.0.*1\.0'): load_rgb(f)
    monkeypatch.setenv('PETBOOK_MAX_PIXELS', '4_000_000'); assert load_rgb(f).size == (2000, 1500)

def test_huge_jpeg_decodes_only_the_draft(tmp_path, decoded, monkeypatch):
    monkeypatch.setenv('PETBOOK_MAX_PIXELS', '1_000_000')                      # the limit counts pixels decoded, after the draft
    Image.new('RGB', (4000, 3000), (40, 120, 200)).save(tmp_path/'big.jpg', quality=70)
    out = Resize(64)((open_image(tmp_path/'big.jpg'),), split_idx=1)[0]
    assert out.size == (64, 64) and decoded == [(500, 375)]                      # 1/8 scale: 0.19 MP decoded, not 12
    with pytest.raises(ImageError, match='big.jpg'): load_rgb(tmp_path/'big.jpg')   # without a draft: 12 MP > the limit


def test_nan_point_or_regression_target_names_the_item(pics):
    items = [pics/f'p{i}.jpg' for i in range(4)]
    pts = {'p0.jpg': [10, 10], 'p1.jpg': [float('nan'), 5], 'p2.jpg': [20, 20], 'p3.jpg': [5, 5]}
    db = DataBlock(blocks=(ImageBlock, PointBlock), get_y=lambda f: torch.tensor(pts[f.name]), item_tfms=Resize(32))
    with pytest.raises(LabelError, match=r'not a finite number.*p1\.jpg'): db.datasets(items)
    with pytest.raises(LabelError, match=r'p1\.jpg'): Resize(32)((open_image(items[1]), Points([[float('nan'), 5]])), split_idx=1)


def test_image_beyond_pils_own_limit_names_the_file_and_the_setting(tmp_path):
    f = _png_header_only(tmp_path/'giant.png', 20000, 20000)                  # 400 MP: PIL refuses it when opening
    with pytest.raises(ImageError, match=r'giant\.png.*MAX_IMAGE_PIXELS'): open_image(f)
