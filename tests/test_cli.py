"""The installed `petbook` command, end to end on tiny generated data, and every bad-argument case."""
import json, os, shutil, subprocess, sys
from pathlib import Path
import pytest
import torch

EXE = shutil.which('petbook', path=str(Path(sys.executable).parent)) or shutil.which('petbook')


def run(*args, env=None, timeout=600):
    assert EXE, "the petbook console script is not installed (pip install -e .)"
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, 'PETBOOK_OFFLINE': '1', **(env or {})})


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    "Train once on 37 × 3 tiny generated pets; yields (out folder, PETBOOK_HOME)."
    home = tmp_path_factory.mktemp('home'); user = tmp_path_factory.mktemp('user'); out = user/'out'
    r = run('train', 'pets', '--generated', '--n-per-breed', 3, '--size', 32, '--item-size', 48, '--bs', 8, '--epochs', 1,
            '--workers', 0, '--arch', 'efficientnet_lite0', '--out', '~/out', env={'PETBOOK_HOME': str(home), 'HOME': str(user)})
    assert r.returncode == 0, r.stderr[-3000:]
    assert out.is_dir() and not Path('~').exists()        # `~/out` is the user's folder, not a folder named '~' here
    return out, home, r


def test_train_prints_table_and_error_rate(trained):
    out, home, r = trained
    assert 'error_rate' in r.stdout and 'final error_rate' in r.stdout, r.stdout[-2000:]
    m = json.loads((out/'metrics.json').read_text())
    assert 0 <= m['error_rate'] <= 1 and m['arch'] == 'efficientnet_lite0'
    assert (out/'pets.pth').exists()


def test_predict_prints_top_breeds(trained):
    out, home, _ = trained
    img = sorted((home/'data').glob('generated-pets-*/images/Birman_1.jpg'))[0]
    r = run('predict', out/'pets.pth', img, '--top', 3)
    assert r.returncode == 0, r.stderr
    line = r.stdout.strip().splitlines()[-1]
    assert line.startswith(str(img)) and line.count(',') == 2
    probs = [float(x.split()[-1]) for x in line.split(': ', 1)[1].split(', ')]
    assert probs == sorted(probs, reverse=True) and all(0 <= p <= 1 for p in probs)


def test_help_teaches():
    r = run('--help'); assert r.returncode == 0 and 'download' in r.stdout and 'train' in r.stdout and 'predict' in r.stdout
    r = run('train', '--help'); assert r.returncode == 0 and '--generated' in r.stdout and 'fine_tune' in r.stdout
    r = run(); assert r.returncode == 2 and 'usage' in r.stdout


@pytest.mark.parametrize('args, msg', [
    (['train', 'pets', '--data', '/nonexistent/pets'], 'no such folder'),
    (['train', 'pets', '--arch', 'vgg16'], 'unknown'),
    (['predict', '/nonexistent/model.pth', 'x.jpg'], 'no model file'),
])
def test_bad_arguments(args, msg):
    r = run(*args)
    assert r.returncode == 2 and msg in r.stderr and 'Traceback' not in r.stderr, r.stderr


def test_folder_without_images(tmp_path):
    (tmp_path/'notes.txt').write_text('no pictures here')
    r = run('train', 'pets', '--data', tmp_path)
    assert r.returncode == 2 and 'no image files' in r.stderr and 'Traceback' not in r.stderr


def test_model_from_another_vocabulary(trained, tmp_path):
    out, home, _ = trained
    state = torch.load(out/'pets.pth', weights_only=True)
    state['meta']['vocab'] = state['meta']['vocab'][:10]                 # a vocabulary that doesn't match the weights
    torch.save(state, tmp_path/'bad.pth')
    img = sorted((home/'data').glob('generated-pets-*/images/*.jpg'))[0]
    r = run('predict', tmp_path/'bad.pth', img)
    assert r.returncode == 2 and 'vocabulary has 10 labels' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    (tmp_path/'junk.pth').write_bytes(b'not a model')
    r = run('predict', tmp_path/'junk.pth', img)
    assert r.returncode == 2 and 'not a PyTorch model file' in r.stderr and r.stderr.count('\n') == 1, r.stderr


def test_unknown_image(trained, tmp_path):
    out, _, _ = trained
    r = run('predict', out/'pets.pth', tmp_path/'missing.jpg')
    assert r.returncode == 2 and 'no such file' in r.stderr
    (tmp_path/'broken.jpg').write_bytes(b'\xff\xd8\xff\xe0 not really a jpeg')
    r = run('predict', out/'pets.pth', tmp_path/'broken.jpg')
    assert r.returncode == 2 and 'broken.jpg' in r.stderr and 'Traceback' not in r.stderr, r.stderr


# ---------------------------------------------------------------- issue 24, item 8: every argument checked before training
@pytest.mark.parametrize('args, needle', [
    (['--bs', 0], '--bs 0:'), (['--bs', 1], '--bs 1:'), (['--size', 0], '--size 0:'), (['--workers', -1], '--workers -1:'),
    (['--epochs', 0], '--epochs 0:'), (['--lr', 'nan'], '--lr nan:'), (['--lr', 1e9], '--lr 1000000000.0:'), (['--lr', -2e-3], '--lr -0.002:'),
    (['--n-per-breed', 0], '--n-per-breed 0:'), (['--item-size', 16], '--item-size 16:'),
])
def test_train_checks_every_argument_before_training(args, needle, capsys, monkeypatch):
    import petbook.cli as cli
    monkeypatch.setattr(cli, 'get_pets', lambda *a, **k: pytest.fail('loaded data before checking the arguments'))
    assert cli.main(['train', 'pets', '--generated', *map(str, args)]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count('\n') == 1 and 'Traceback' not in err, err


def test_train_refuses_a_file_for_a_folder(tmp_path, capsys):
    from petbook.cli import main
    (tmp_path/'file.txt').write_text('x')
    for opt in ('--out', '--data'):
        assert main(['train', 'pets', opt, str(tmp_path/'file.txt')]) == 2
        err = capsys.readouterr().err
        assert f'{opt} ' in err and 'is a file' in err and err.count('\n') == 1, err


@pytest.mark.parametrize('top', [0, -1])
def test_predict_refuses_top_below_one(tmp_path, top):
    r = run('predict', tmp_path/'model.pth', tmp_path/'x.jpg', '--top', top)
    assert r.returncode == 2 and f'--top {top}: must be at least 1' in r.stderr and r.stderr.count('\n') == 1, r.stderr


# ---------------------------------------------------------------- issue 24, item 6: predict says what the task means
def _drawn(tmp_path, n=6):
    from petbook.synth import draw_pet
    d = tmp_path/'images'; d.mkdir()
    for b in ('beagle', 'pug'):
        for i in range(n): draw_pet(b, seed=i, size=(64, 48)).save(d/f'{b}_{i}.jpg')
    return d


def test_predict_multi_label_prints_the_labels_above_the_threshold(tmp_path):
    from petbook.all import DataBlock, ImageBlock, MultiCategoryBlock, get_image_files, RandomSplitter, Resize, vision_learner, resnet18
    d = _drawn(tmp_path)
    dls = DataBlock(blocks=(ImageBlock, MultiCategoryBlock), get_items=get_image_files, splitter=RandomSplitter(seed=1),
                    get_y=lambda p: [p.name.split('_')[0], 'animal'], item_tfms=Resize(32)).dataloaders(d, bs=4, num_workers=0, device='cpu')
    torch.manual_seed(0); learn = vision_learner(dls, resnet18, pretrained=False); learn.loss_func.thresh = 0.4
    f = learn.export(tmp_path/'multi.pth'); img = dls.valid.items[0]
    labels, _, probs = learn.predict(img)
    r = run('predict', f, img, '--top', 3)
    assert r.returncode == 0, r.stderr
    line = r.stdout.strip().splitlines()[-1]
    assert f"labels {', '.join(labels) if labels else '(none)'} (probability above 0.4)" in line, line
    top = sorted(zip(probs.tolist(), dls.vocab), reverse=True)[:3]
    assert line.endswith('top: ' + ', '.join(f'{v} {q:.3f}' for q, v in top)), line        # sigmoid, not softmax


def test_predict_points_prints_pixels(tmp_path):
    from petbook.all import DataBlock, ImageBlock, PointBlock, get_image_files, RandomSplitter, Resize, vision_learner, resnet18
    d = _drawn(tmp_path)
    dls = DataBlock(blocks=(ImageBlock, PointBlock), get_items=get_image_files, splitter=RandomSplitter(seed=1),
                    get_y=lambda p: torch.tensor([[10., 20.]]), item_tfms=Resize(32, method='squish')).dataloaders(d, bs=4, num_workers=0, device='cpu')
    torch.manual_seed(0); learn = vision_learner(dls, resnet18, pretrained=False, y_range=(-1, 1))
    f = learn.export(tmp_path/'points.pth'); img = dls.valid.items[0]
    _, raw, _ = learn.predict(img)
    from PIL import Image
    x, y = ((raw.flatten() + 1) / 2 * torch.tensor(Image.open(img).size, dtype=torch.float32)).tolist()   # squish: [-1, 1] onto the photo
    r = run('predict', f, img)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == f"{img}: point(s) (x, y) in pixels: ({x:.1f}, {y:.1f})", r.stdout
