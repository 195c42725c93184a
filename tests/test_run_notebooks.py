"""tools/run_notebooks.py: what it does to saved outputs, and that the committed lesson notebooks are saved that way."""
import json, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT/'tools'))
from run_notebooks import terminal_text, tidy_streams, LESSONS   # noqa: E402


@pytest.mark.parametrize('raw, shown', [
    ('\repoch 1/4 train:   0%|   | 0/32\repoch 1/4 train:  50%|#  | 16/32\r' + ' ' * 40 + '\r', ''),   # a bar that clears itself
    ('\x1b[2K\r\x1b[2K\r', ''),                                                        # escape codes only
    ('Drew x in 3s\nUsing y\n', 'Drew x in 3s\nUsing y\n'),                           # plain text kept as it is
    ('50%\r100% done\nnext\n', '100% done\nnext\n'),                                   # only the last redraw of a line
])
def test_terminal_text(raw, shown):
    assert terminal_text(raw) == shown


def test_tidy_streams_drops_empty_bars_and_keeps_the_rest():
    from execnb.nbio import dict2nb
    nb = dict2nb({'cells': [{'cell_type': 'code', 'source': '', 'metadata': {}, 'outputs': [
        {'output_type': 'stream', 'name': 'stderr', 'text': ['\repoch 1/1 train:  50%|#\r', '          \r']},
        {'output_type': 'stream', 'name': 'stdout', 'text': ['error rate 0.1\n']},
        {'output_type': 'execute_result', 'data': {'text/plain': '42'}, 'metadata': {}}]}],
        'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5})
    tidy_streams(nb)
    outs = nb.cells[0].outputs
    assert [o['output_type'] for o in outs] == ['stream', 'execute_result'] and outs[0]['text'] == ['error rate 0.1\n']


@pytest.mark.parametrize('name', LESSONS)
def test_saved_outputs_are_tidy(name):
    "Any outputs committed with a lesson were saved by the tool: no progress-bar redraws, no escape codes, no errors."
    nb = json.loads((ROOT/'nbs'/f'{name}.ipynb').read_text())
    for i, c in enumerate(nb['cells']):
        for o in c.get('outputs', []):
            assert o['output_type'] != 'error', f"{name} cell {i} saved an error"
            if o['output_type'] == 'stream':
                t = ''.join(o['text'])
                assert '\r' not in t and '\x1b' not in t, f"{name} cell {i}: run tools/run_notebooks.py --shrink {name}"
