"""Data-parallel training (petbook.distributed, notebook 94) in 2 real processes on the CPU: gloo, 127.0.0.1, under torchrun.

Every run is bounded by a timeout, so a hang fails the test instead of stalling CI. The reference is one plain process
that never touches torch.distributed, with the same global batch: 8 items a step, against 2 processes × 4."""
import importlib.util, json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
import torch
from petbook.synth import make_pets
from petbook.distributed import launch_torchrun

HERE = Path(__file__).parent
WORKER = HERE/'distributed_worker.py'
TIMEOUT = 300          # seconds for one torchrun launch (2 processes importing torch on a busy 2-core machine)
ATOL, RTOL = 1e-5, 1e-4  # float32 sums taken in another order (two means of 4 averaged, vs one mean of 8)


def _worker_module():
    spec = importlib.util.spec_from_file_location('distributed_worker', WORKER)
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    "36 small drawn pets of 4 breeds: 29 for training (not a multiple of 8), 7 for validation (odd: one padded item)."
    d = tmp_path_factory.mktemp('pets')
    return make_pets(d, n_per_breed=9, seed=1, breeds=['Abyssinian', 'Bengal', 'beagle', 'pug'], size=(40, 32))/'images'


@pytest.fixture(scope='module')
def two(images, tmp_path_factory):
    "The recipe in 2 processes with 4 items each per step; returns (out folder, completed process, per-rank results)."
    out = tmp_path_factory.mktemp('two')
    r = launch_torchrun([WORKER, images, out, 4, 'ok'], nproc=2, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr[-4000:]
    return out, r, [torch.load(out/f'result_rank{k}.pt', weights_only=False) for k in (0, 1)]


@pytest.fixture(scope='module')
def one(images):
    "The same recipe in this process, no torch.distributed, 8 items per step: the reference."
    learn = _worker_module().recipe(images, 8)
    with learn.no_bar(): learn.fit(2)
    preds, targs, losses = learn.get_preds(with_loss=True)
    return {'weights': learn.model.state_dict(), 'preds': preds, 'targs': targs, 'losses': losses,
            'vals': learn.validate(), 'record': learn.recorder.values}


def test_same_weights_as_one_process(two, one):
    "Same global batch ⇒ same weights after 6 SGD steps, on both ranks, within ATOL/RTOL."
    for res in two[2]:
        for k, w in one['weights'].items():
            torch.testing.assert_close(res['weights'][k], w, atol=ATOL, rtol=RTOL, msg=lambda m: f"{k}: {m}")
    w0, w1 = two[2][0]['weights'], two[2][1]['weights']
    assert all(torch.equal(w0[k], w1[k]) for k in w0), "the two ranks' copies of the model differ"


def test_metrics_and_preds_as_one_process(two, one):
    "Validation (loss, error_rate), the epoch records and get_preds gathered over ranks equal the single process's, in order."
    for res in two[2]:
        torch.testing.assert_close(res['preds'], one['preds'], atol=ATOL, rtol=RTOL)
        assert torch.equal(res['targs'], one['targs']) and len(res['targs']) == 7          # the padded item dropped
        torch.testing.assert_close(res['losses'], one['losses'], atol=ATOL, rtol=RTOL)
        assert res['vals'] == pytest.approx(one['vals'], abs=ATOL)
        assert torch.tensor(res['record']).allclose(torch.tensor(one['record']), atol=ATOL)


def test_only_rank0_writes_and_prints(two):
    "export and save write from rank 0 only; the epoch table is printed once."
    out, r, _ = two
    assert (out/'export_rank0.pth').exists() and (out/'saved_rank0.pth').exists()
    assert not (out/'export_rank1.pth').exists() and not (out/'saved_rank1.pth').exists()
    assert r.stdout.count('train_loss') == 1, r.stdout


def test_failing_rank_stops_the_others(images, tmp_path):
    "Rank 1 raises before training; rank 0 must not wait for it for ever: torchrun stops it, and the error is named."
    t = time.time()
    r = launch_torchrun([WORKER, images, tmp_path, 4, 'fail'], nproc=2, timeout=TIMEOUT)   # a hang would raise TimeoutExpired
    assert r.returncode != 0
    assert 'petbook: rank 1 of 2 failed: ValueError: rank 1 broke on purpose' in r.stderr, r.stderr[-4000:]
    assert 'rank      : 1' in r.stderr                                  # torchrun's summary: the root cause is rank 1
    assert not list(tmp_path.glob('result_rank*.pt'))


def test_launch_stops_everything_at_its_timeout(tmp_path):
    "launch_torchrun's own bound: a script that never ends is stopped (with its torchrun) and the caller hears of it."
    (tmp_path/'forever.py').write_text('import time\nwhile True: time.sleep(1)\n')
    with pytest.raises(Exception) as e: launch_torchrun([tmp_path/'forever.py'], nproc=2, timeout=20)
    assert 'TimeoutExpired' in type(e.value).__name__


def test_cli_trains_in_two_processes(tmp_path):
    "`petbook train pets --nproc 2`: torchrun under the command, one epoch table, one model and metrics file, a loadable model."
    from petbook.inference import load_learner
    env = {**os.environ, 'PETBOOK_HOME': str(tmp_path/'home'), 'PETBOOK_OFFLINE': '1', 'OMP_NUM_THREADS': '1'}
    cmd = [sys.executable, '-c', 'import sys; from petbook.cli import main; sys.exit(main())', 'train', 'pets', '--generated',
           '--n-per-breed', 3, '--size', 32, '--item-size', 48, '--bs', 4, '--epochs', 1, '--workers', 0,
           '--arch', 'efficientnet_lite0', '--nproc', 2, '--out', tmp_path/'out']
    p = subprocess.Popen([*map(str, cmd)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try: out, err = p.communicate(timeout=2 * TIMEOUT)
    except subprocess.TimeoutExpired:                  # Ctrl-C: the command stops its torchrun, which stops the workers
        p.send_signal(signal.SIGINT); p.communicate(timeout=60); raise
    r = subprocess.CompletedProcess(cmd, p.returncode, out, err)
    assert r.returncode == 0, r.stderr[-4000:]
    assert r.stdout.count('final error_rate') == 1, r.stdout[-3000:]
    assert r.stdout.count('train_loss') == 2, r.stdout[-3000:]        # a table for each of fine_tune's two fits, from rank 0 only
    assert 0 <= json.loads((tmp_path/'out'/'metrics.json').read_text())['error_rate'] <= 1
    assert len(load_learner(tmp_path/'out'/'pets.pth').vocab) == 37
