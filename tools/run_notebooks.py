"""Run the lesson notebooks at full size and save their outputs into them, so that a reader who doesn't run them
(on GitHub, in a viewer) still sees every table, number and picture.

    .venv/bin/python tools/run_notebooks.py                      # every lesson notebook, 01–13 (one process each)
    .venv/bin/python tools/run_notebooks.py 06_lr_finder 11_regression --jobs 1
    .venv/bin/python tools/run_notebooks.py --clear              # strip the outputs again

What a run is: the person's recipe, not the test's — `IN_TEST` is unset, so every cell runs its real sizes and
`#| slow` cells run too, on the *generated* data (a fresh, temporary PETBOOK_HOME and PETBOOK_OFFLINE=1, so a
cache holding the real datasets is not used and nothing is downloaded). A cell that raises stops its notebook,
which is then left unchanged on disk, and the tool exits non-zero naming the cell. Pictures are drawn at `--dpi` (72 by
default) and each is kept as the smaller of a 256-colour PNG and a JPEG, so that the repository stays small; the notebooks are then cleaned with `nbdev_clean`
(outputs kept, execution counts and metadata removed), so the CI's sync check passes on them unchanged.
Rerun it after changing a lesson; `nbdev_test` ignores the saved outputs (it runs every notebook afresh).
"""
import argparse, multiprocessing as mp, os, re, subprocess, sys, tempfile, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT/'nbs'
LESSONS = sorted(p.stem for p in NBS.glob('[01][0-9]_*.ipynb'))
WIDGET = 'application/vnd.jupyter.widget-view+json'
WIDGET_NOTE = '[an interactive widget: run the notebook in JupyterLab to move it]'


def _skip(cell) -> bool:
    "Cells nbdev_test never runs: markdown, `nbdev_export()` calls and `#| eval: false`."
    if cell.cell_type != 'code' or 'nbdev_export' + '(' in cell.source: return True
    return any(l.replace(' ', '').lower().startswith('#|eval:false') for l in cell.source.splitlines())


def shrink_images(nb) -> None:
    "Each saved picture as the smaller of a 256-colour PNG (plots) and a JPEG at quality 75 (photos); repeats dropped."
    import base64, io
    from PIL import Image
    for c in nb.cells:
        seen = set()
        for o in list(c.get('outputs', []) or []):
            data = o.get('data', {}); png = data.get('image/png')
            if png is None: continue
            raw = base64.b64decode(''.join(png) if isinstance(png, list) else png)
            if raw in seen: c.outputs.remove(o); continue
            seen.add(raw)
            im = Image.open(io.BytesIO(raw)).convert('RGB'); q, j = io.BytesIO(), io.BytesIO()
            im.quantize(256).save(q, 'PNG', optimize=True); im.save(j, 'JPEG', quality=75, optimize=True)
            kind, best = min([('image/png', raw), ('image/png', q.getvalue()), ('image/jpeg', j.getvalue())], key=lambda kb: len(kb[1]))
            del data['image/png']; data[kind] = base64.b64encode(best).decode()


ANSI = re.compile(r'\x1b\[[0-9;?]*[A-Za-z]')


def terminal_text(t: str) -> str:
    "What a terminal shows for `t`: within each line only the text after its last carriage return, no ANSI codes."
    lines = [ANSI.sub('', l).split('\r')[-1].rstrip() for l in t.split('\n')]
    return '\n'.join(lines).strip('\n') + ('\n' if t.endswith('\n') and any(lines) else '')


def tidy_streams(nb) -> None:
    "Progress bars saved as the terminal would show them at the end (usually nothing): no redraws, no escape codes."
    for c in nb.cells:
        outs = c.get('outputs', []) or []
        for o in list(outs):
            if o.get('output_type') != 'stream': continue
            t = terminal_text(''.join(o['text']) if isinstance(o['text'], list) else o['text'])
            if t.strip(): o['text'] = t.splitlines(keepends=True)
            else: outs.remove(o)


def run(name: str, dpi: int, home: str) -> tuple:
    "Execute nbs/`name`.ipynb in this (fresh) process; write it back with its outputs if every cell ran."
    os.environ.pop('IN_TEST', None)
    os.environ.update(PETBOOK_HOME=home, PETBOOK_OFFLINE='1', MPLBACKEND='module://matplotlib_inline.backend_inline')
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    fn = NBS/f'{name}.ipynb'; nb = read_nb(fn)
    for c in nb.cells:
        if c.cell_type == 'code': c.outputs, c.execution_count = [], None
    t = time.time(); sh = CaptureShell(fn)
    sh.run(f"import matplotlib; matplotlib.rcParams.update({{'figure.dpi': {dpi}, 'savefig.dpi': {dpi}}})\n"
           "from matplotlib_inline.backend_inline import set_matplotlib_formats; set_matplotlib_formats('png')")
    cwd = os.getcwd(); os.chdir(fn.parent)
    try: sh.run_all(nb, exc_stop=False, preproc=_skip)
    finally: os.chdir(cwd)
    for i, c in enumerate(nb.cells):
        for o in c.get('outputs', []) or []:
            if o.get('output_type') == 'error':
                return name, time.time() - t, f"cell {i} raised {o['ename']}: {str(o['evalue'])[:300]}"
    for c in nb.cells:                  # a saved widget needs its kernel: keep a line that says so instead
        for o in c.get('outputs', []) or []:
            if WIDGET in o.get('data', {}): o['data'] = {'text/plain': WIDGET_NOTE}
    shrink_images(nb); tidy_streams(nb)
    write_nb(nb, fn)
    return name, time.time() - t, None


def clear(names) -> None:
    "Remove every output (the notebooks as nbdev_test and the CI see them without a full run)."
    from execnb.nbio import read_nb, write_nb
    for n in names:
        nb = read_nb(NBS/f'{n}.ipynb')
        for c in nb.cells:
            if c.cell_type == 'code': c.outputs, c.execution_count = [], None
        write_nb(nb, NBS/f'{n}.ipynb')


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('notebooks', nargs='*', help=f'names without .ipynb (default: {LESSONS[0]} … {LESSONS[-1]})')
    ap.add_argument('--jobs', type=int, default=2, help='notebooks run at once, one process each')
    ap.add_argument('--dpi', type=int, default=72)
    ap.add_argument('--clear', action='store_true', help='strip the outputs instead')
    ap.add_argument('--shrink', action='store_true', help="only shrink the pictures and tidy the progress bars already saved (no run)")
    a = ap.parse_args(argv)
    names = [n.removesuffix('.ipynb').split('/')[-1] for n in a.notebooks] or LESSONS
    missing = [n for n in names if not (NBS/f'{n}.ipynb').exists()]
    if missing: ap.error(f"no such notebook in {NBS}: {', '.join(missing)}")
    if a.clear: clear(names)
    elif a.shrink:
        from execnb.nbio import read_nb, write_nb
        for n in names: nb = read_nb(NBS/f'{n}.ipynb'); shrink_images(nb); tidy_streams(nb); write_nb(nb, NBS/f'{n}.ipynb')
    else:
        failed, t0 = [], time.time()
        with tempfile.TemporaryDirectory(prefix='petbook-home-') as home, \
             ProcessPoolExecutor(a.jobs, mp_context=mp.get_context('spawn'), max_tasks_per_child=1) as ex:
            # one fresh process per notebook; the first to need the generated pets draws them into `home`
            futs = [ex.submit(run, n, a.dpi, home) for n in names]
            for f in futs:
                name, secs, err = f.result()
                print(f"{name:24s} {secs:6.0f} s  {'FAILED: ' + err + ' (left unchanged)' if err else 'outputs saved'}", flush=True)
                if err: failed.append(name)
        print(f"{len(names) - len(failed)} of {len(names)} notebooks saved with outputs in {time.time() - t0:.0f} s")
        if failed: print('failed:', ' '.join(failed), file=sys.stderr)
    subprocess.run([str(Path(sys.executable).parent/'nbdev_clean')], cwd=ROOT, check=True)
    return 1 if not (a.clear or a.shrink) and failed else 0


if __name__ == '__main__':
    sys.exit(main())
