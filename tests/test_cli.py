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
    home = tmp_path_factory.mktemp('home'); out = tmp_path_factory.mktemp('out')
    r = run('train', 'pets', '--generated', '--n-per-breed', 3, '--size', 32, '--item-size', 48, '--bs', 8, '--epochs', 1,
            '--workers', 0, '--arch', 'efficientnet_lite0', '--out', out, env={'PETBOOK_HOME': str(home)})
    assert r.returncode == 0, r.stderr[-3000:]
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
    assert r.returncode == 2 and 'not a model file' in r.stderr, r.stderr


def test_unknown_image(trained, tmp_path):
    out, _, _ = trained
    r = run('predict', out/'pets.pth', tmp_path/'missing.jpg')
    assert r.returncode == 2 and 'no such file' in r.stderr
    (tmp_path/'broken.jpg').write_bytes(b'\xff\xd8\xff\xe0 not really a jpeg')
    r = run('predict', out/'pets.pth', tmp_path/'broken.jpg')
    assert r.returncode == 2 and 'broken.jpg' in r.stderr and 'Traceback' not in r.stderr, r.stderr
