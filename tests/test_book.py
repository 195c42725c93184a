"""The book's own code on petbook: chapters 5 and 6, with only the dataset and (offline) the backbone swapped.

Two tests:
- `test_book_scenarios`: tests/book/scenario_ch05.py and scenario_ch06.py, petbook's scripts that call every name
  and signature the two chapters' code uses (fastai's star-import names included), on generated data, tiny.
- `test_fastbook_cells`: the book's cells themselves, read from a fastai/fastbook checkout named by
  `PETBOOK_FASTBOOK` (its clean/05_pet_breeds.ipynb and clean/06_multicat.ipynb), run cell by cell after the
  substitutions in tests/book/runner.py (dataset → generated, resnet → the offline backbone, epochs and sizes small).
  The book's text is not copied into this repository; without a checkout the test is skipped.
"""
import os, runpy, sys
from pathlib import Path
import pytest

BOOK = Path(__file__).parent/'book'
sys.path.insert(0, str(BOOK))
import runner  # noqa: E402


@pytest.fixture(autouse=True)
def tiny(monkeypatch):
    "Tiny sizes (IN_TEST), no display, and Path.BASE_PATH restored afterwards."
    import matplotlib; matplotlib.use('Agg')
    from pathlib import Path as P
    monkeypatch.setenv('IN_TEST', '1'); monkeypatch.setenv('PETBOOK_OFFLINE', '1')
    old = getattr(P, 'BASE_PATH', None)
    yield
    P.BASE_PATH = old


@pytest.mark.parametrize('name', ['scenario_ch05.py', 'scenario_ch06.py'])
def test_book_scenarios(name):
    runpy.run_path(str(BOOK/name), run_name='__main__')


def test_runner_table():
    "Every substitution is used by some cell the book has, and the runner runs a final expression like a notebook."
    ns = {}
    assert runner.run_cell("a = 2\na * 21", ns) == 42 and ns['a'] == 2
    assert runner.substitute("m = cnn_learner(d, resnet50)\nm.fine_tune(2)") == "m = cnn_learner(d, ARCH)\nm.fine_tune(1)"
    assert runner.skip_reason("learn.fine_tune??") and runner.skip_reason("x = 1") is None
    assert runner.expected_error("pets1.summary(path/'images')")[0] == 'CollateError'


@pytest.mark.skipif(not os.environ.get('PETBOOK_FASTBOOK'), reason="set PETBOOK_FASTBOOK to a fastai/fastbook checkout to run the book's own cells")
@pytest.mark.parametrize('chapter', ['05_pet_breeds', '06_multicat'])
def test_fastbook_cells(chapter):
    nb = Path(os.environ['PETBOOK_FASTBOOK'])/'clean'/f'{chapter}.ipynb'
    res = runner.run_book(nb)
    failed = [f"cell {i}: {d}" for i, s, d in res if s == 'FAILED']
    assert not failed, '\n\n'.join(failed)
    assert sum(s == 'ok' for _, s, _ in res) >= 40


def test_star_import_gives_fastais_names():
    "The names fastai's star import brings that the book's code uses, from `from petbook.all import *` alone."
    import functools, math, pathlib, re
    import numpy, pandas, torch, matplotlib.pyplot
    ns = {}
    exec('from petbook.all import *', ns)
    same = {'torch': torch, 'nn': torch.nn, 'F': torch.nn.functional, 'tensor': torch.tensor, 'np': numpy, 'pd': pandas,
            'plt': matplotlib.pyplot, 'math': math, 're': re, 'partial': functools.partial, 'Path': pathlib.Path}
    for k, v in same.items(): assert ns[k] is v, k
    for k in ['L', 'PILImage', 'show_image', 'plot_function', 'to_cpu', 'get_pets', 'get_pascal', 'get_biwi', 'pick_arch']: assert k in ns, k
    assert callable(ns['Path'].ls) and hasattr(ns['Path'], 'BASE_PATH')
    assert ns['DataBlock']().splitter is not None and len(ns['DataBlock']().datasets(list(range(10))).valid) == 2
