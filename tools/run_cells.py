"""Run notebooks as `nbdev_test` does (IN_TEST, the same skipped cells) but go on past a failing cell, and list
every cell that failed — for auditing the series on another machine (a GPU) in one pass instead of one failure
per notebook per run. Later failures can be knock-on effects of an earlier one; the first in each notebook is real.

    python tools/run_cells.py nbs/03_datablock.ipynb nbs/11_regression.ipynb     # or no arguments: every notebook
"""
import multiprocessing as mp, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def run(fn):
    os.environ['IN_TEST'] = '1'
    from execnb.shell import CaptureShell
    from nbdev.process import NBProcessor
    from nbdev.frontmatter import FrontmatterProc
    from fastcore.xtras import working_directory
    fn = Path(fn).absolute(); nb = NBProcessor(fn, procs=FrontmatterProc, process=True).nb

    def skip(cell):
        if cell.cell_type != 'code' or 'nbdev_export' + '(' in cell.source: return True
        return (getattr(cell, 'directives_', {}) or {}).get('eval:', [''])[0].lower() == 'false'

    t = time.time(); k = CaptureShell(fn)
    with working_directory(fn.parent): k.run_all(nb, exc_stop=False, preproc=skip)
    fails = []
    for i, c in enumerate(nb.cells):
        for o in c.get('outputs', []) or []:
            if o.get('output_type') == 'error':
                line = next((l for l in c.source.splitlines() if l.strip() and not l.startswith('#')), '')
                fails.append(f"  cell {i}: {o['ename']}: {str(o['evalue'])[:300]}\n      {line[:150]}")
    return fn.name, time.time() - t, fails


if __name__ == '__main__':
    fns = sys.argv[1:] or sorted(str(p) for p in Path(__file__).parent.parent.glob('nbs/[0-9]*.ipynb'))
    bad = 0
    # one fresh process per notebook: IPython replaces __main__ in the process that runs a notebook
    with ProcessPoolExecutor(min(4, len(fns)), mp_context=mp.get_context('spawn'), max_tasks_per_child=1) as ex:
        for name, secs, fails in ex.map(run, fns):
            print(f"{name}: {'ok' if not fails else f'{len(fails)} failing cell(s)'} ({secs:.0f} s)", *fails, sep='\n', flush=True)
            bad += bool(fails)
    sys.exit(1 if bad else 0)
