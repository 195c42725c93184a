"""The sliders as a reader uses them: a real JupyterLab on 127.0.0.1, driven in Debian's Chromium by Playwright.

Each test opens a copy of a notebook, runs all of it (at test sizes: the kernels get `IN_TEST=1`), re-runs the
explorer's cell so it shows its starting state, moves a slider with the keyboard, and checks that what the page
shows is what the pure function (`softmax_table`, `threshold_table`) computes *in this process* from the values
the page shows. On failure a screenshot is kept in tests/artifacts/.
"""
import json, os, shutil, secrets, socket, subprocess, sys, time, urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get('PETBOOK_CHROMIUM', '/usr/bin/chromium')
ARTIFACTS = ROOT/'tests'/'artifacts'

if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}: install it (`apt-get install chromium`; .ci/run does) to run the JupyterLab tests",
                allow_module_level=True)
playwright = pytest.importorskip('playwright.sync_api', reason='playwright is in the dev extra: pip install -e ".[dev]"')


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    "A JupyterLab server on a free loopback port with a random token and throw-away config/runtime/IPython dirs."
    tmp = tmp_path_factory.mktemp('lab')
    work = tmp/'nbs'; work.mkdir()
    for nb in ('04_cross_entropy.ipynb', '10_multilabel.ipynb'): shutil.copy(ROOT/'nbs'/nb, work/nb)
    settings = tmp/'settings'/'@jupyterlab'/'apputils-extension'; settings.mkdir(parents=True)
    (settings/'notification.jupyterlab-settings').write_text(json.dumps({'checkForUpdates': False, 'fetchNews': 'false'}))
    env = {**os.environ, 'IN_TEST': '1', 'PETBOOK_HOME': str(tmp/'petbook-home'), 'PETBOOK_OFFLINE': '1',
           'JUPYTER_CONFIG_DIR': str(tmp/'config'), 'JUPYTER_RUNTIME_DIR': str(tmp/'runtime'), 'IPYTHONDIR': str(tmp/'ipython'),
           'JUPYTERLAB_SETTINGS_DIR': str(tmp/'settings'), 'JUPYTERLAB_WORKSPACES_DIR': str(tmp/'workspaces'),
           'OMP_NUM_THREADS': '2'}
    port, token = _free_port(), secrets.token_hex(16)
    log = open(tmp/'lab.log', 'w')
    proc = subprocess.Popen([sys.executable, '-m', 'jupyter', 'lab', '--no-browser', '--allow-root', '--ip=127.0.0.1',
                             f'--port={port}', f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={work}',
                             '--LabApp.expose_app_in_browser=True', '--ServerApp.port_retries=0'],
                            cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(120):
            if proc.poll() is not None: break
            try:
                urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=2); break
            except OSError: time.sleep(0.5)
        else: pytest.fail(f'JupyterLab did not answer within 60 s; its log: {tmp/"lab.log"}')
        if proc.poll() is not None: pytest.fail(f'JupyterLab exited ({proc.returncode}):\n{(tmp/"lab.log").read_text()[-3000:]}')
        yield {'url': url, 'token': token, 'work': work, 'log': tmp/'lab.log'}
    finally:
        proc.terminate()
        try: proc.wait(15)
        except subprocess.TimeoutExpired: proc.kill()
        log.close()


@pytest.fixture(scope='module')
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=['--no-sandbox', '--disable-background-networking', '--disable-component-update',
                                    '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'])   # nothing leaves the machine
        yield b
        b.close()


class Notebook:
    "A notebook open in JupyterLab, driven through the page."
    def __init__(self, page, name): self.page, self.name = page, name

    def wait_idle(self, timeout=600):
        "Wait until every code cell has run (an execution count), none is queued, and the kernel is idle."
        self.page.wait_for_function("""() => {
            const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
            if (!w || !w.sessionContext || !w.sessionContext.session || !w.sessionContext.session.kernel) return false;
            const code = w.content.widgets.filter(c => c.model.type === 'code');
            const busy = [...document.querySelectorAll('.jp-InputPrompt')].some(e => e.textContent.includes('*'));
            return !busy && code.every(c => c.model.executionCount !== null) && w.sessionContext.session.kernel.status === 'idle';
        }""", timeout=timeout * 1000, polling=500)

    def run_all(self):
        "Run all cells, as Run ▸ Run All Cells does, once the notebook and its kernel are ready."
        self.page.wait_for_function("""() => { const w = window.jupyterapp.shell.currentWidget;
            return w && w.context && w.context.isReady && w.content.widgets.length > 0 && w.sessionContext.session &&
                   w.sessionContext.session.kernel && w.sessionContext.session.kernel.status === 'idle'; }""", timeout=120_000)
        started = """() => window.jupyterapp.shell.currentWidget.content.widgets.some(c => c.model.type === 'code' &&
            (c.model.executionCount !== null || c.node.querySelector('.jp-InputPrompt').textContent.includes('*')))"""
        for attempt in range(3):
            self.page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            try: self.page.wait_for_function(started, timeout=20_000); break
            except playwright.TimeoutError:
                if attempt == 2: raise AssertionError(f'{self.name}: Run All Cells did not start a cell in 60 s')
        self.wait_idle()
        errors = self.page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets
            .filter(c => c.model.type === 'code')
            .flatMap(c => c.model.outputs.toJSON().filter(o => o.output_type === 'error')
                           .map(o => c.model.sharedModel.getSource().slice(0, 300) + '\\n' + o.ename + ': ' + o.evalue))""")
        assert not errors, f'{self.name}: a cell failed in JupyterLab:\n' + '\n\n'.join(errors)

    def rerun_cell(self, contains):
        "Click into the code cell whose source contains `contains` and press Shift+Enter, as a reader would."
        cell = self.page.locator('.jp-CodeCell', has=self.page.locator('.jp-InputArea-editor', has_text=contains)).first
        cell.scroll_into_view_if_needed()
        cell.locator('.jp-InputArea-editor').click()
        self.page.keyboard.press('Shift+Enter')
        self.page.wait_for_timeout(300)
        self.wait_idle()
        return cell


def _open(browser, lab, name):
    page = browser.new_context(viewport={'width': 1500, 'height': 1000}).new_page()
    page.goto(f"{lab['url']}/lab/tree/{name}?reset&token={lab['token']}")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                           "window.jupyterapp.shell.currentWidget.sessionContext && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session", timeout=120_000)
    return page, Notebook(page, name)


def _screenshot_on_failure(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS/f'{name}.png'
    try: page.screenshot(path=str(shot), full_page=True)
    except Exception as e: return f'(screenshot failed: {e})'
    return f'screenshot kept: {shot}'


def _num(text):
    "A number as the page shows it (d3-format writes − for minus)."
    return float(text.strip().replace('\u2212', '-'))


def _readouts(box):
    "{slider description: value shown in its readout} for every slider in a widget box."
    return {s.locator('.widget-label').inner_text().strip(): _num(s.locator('.widget-readout').inner_text())
            for s in box.locator('.widget-slider').all()}


def _press(handle, key, times):
    handle.focus()
    for _ in range(times): handle.press(key)


def test_softmax_explorer_in_jupyterlab(browser, lab):
    from petbook.losses import softmax_table
    page, nb = _open(browser, lab, '04_cross_entropy.ipynb')
    try:
        nb.run_all()
        cell = nb.rerun_cell('exp_ = softmax_explorer()')
        box = cell.locator('.jupyter-widgets.widget-hbox').first
        box.locator('.softmax-table').wait_for(timeout=60_000)
        names = ['Birman', 'Ragdoll', 'Siamese', 'pug', 'beagle']

        def shown():
            r = _readouts(box)
            acts = [r[n] for n in names]
            target = names.index(box.locator('select').input_value())
            t = softmax_table(acts, target, r['temperature'], r['shift (+c)'])
            probs = [_num(x) for x in box.locator('td.prob').all_inner_texts()]
            grads = [_num(x) for x in box.locator('td.grad').all_inner_texts()]
            sigs = [_num(x) for x in box.locator('td.sig').all_inner_texts()]
            return acts, t, probs, _num(box.locator('.loss').inner_text()), grads, sigs

        def picture():                                                     # the three panels, drawn by the kernel
            img = widget.locator('.jp-OutputArea-output img').first
            img.wait_for(timeout=60_000); return img.get_attribute('src')

        widget = cell.locator('.jp-OutputArea').first
        acts0, t0, probs0, loss0, grads0, sigs0 = shown()
        assert acts0 == [0.02, -2.49, 1.25, -0.6, 0.4]                    # the explorer's starting state
        assert probs0 == pytest.approx(t0['probs'], abs=6e-5) and loss0 == pytest.approx(t0['loss'], abs=6e-5)
        assert grads0 == pytest.approx(t0['grad'], abs=6e-5) and sigs0 == pytest.approx(t0['sigmoids'], abs=6e-5)
        assert grads0[0] < 0 and all(g > 0 for g in grads0[1:])           # the target is pushed up, the others down
        pic0 = picture()

        handle = box.locator('.widget-slider').filter(has_text='Birman').locator('.noUi-handle')
        _press(handle, 'ArrowRight', 15)                                   # +0.15 in steps of 0.01
        page.wait_for_function("old => document.querySelector('.softmax-table').closest('.widget-hbox')"
                               ".querySelector('.loss').textContent !== old", arg=f'{loss0:.4f}', timeout=30_000)
        page.wait_for_timeout(500)                                         # let the last key's update arrive
        acts1, t1, probs1, loss1, grads1, sigs1 = shown()
        assert acts1[0] > acts0[0] and acts1[1:] == acts0[1:], acts1       # only Birman moved, and up
        assert probs1 == pytest.approx(t1['probs'], abs=6e-5), (probs1, t1['probs'])
        assert loss1 == pytest.approx(t1['loss'], abs=6e-5) and loss1 < loss0   # more Birman → lower loss for target Birman
        assert sum(probs1) == pytest.approx(1, abs=5e-4)
        assert grads1 == pytest.approx(t1['grad'], abs=6e-5) and grads0[0] < grads1[0] < 0   # a smaller push up
        assert sigs1[0] > sigs0[0] and sigs1[1:] == sigs0[1:]              # sigmoids are independent: only Birman's moved
        assert all(a < b for a, b in zip(probs1[1:], probs0[1:]))         # while softmax took from every other class
        page.wait_for_function("old => { const i = document.querySelector('.softmax-table').closest('.jp-OutputArea')"
                               ".querySelector('.jp-OutputArea-output img'); return i && i.getAttribute('src') !== old; }",
                               arg=pic0, timeout=30_000)                  # and the panels were redrawn
    except Exception as e:
        raise AssertionError(f'{e}\n{_screenshot_on_failure(page, "softmax_explorer")}') from e
    finally:
        page.context.close()


def test_threshold_explorer_in_jupyterlab(browser, lab):
    import torch
    from petbook.multilabel import threshold_table
    nbf = lab['work']/'10_multilabel.ipynb'
    nbj = json.loads(nbf.read_text())                                      # one extra cell hands the predictions to this test
    nbj['cells'].append({'cell_type': 'code', 'execution_count': None, 'id': 'browser-test-state', 'metadata': {}, 'outputs': [],
                         'source': "torch.save({'preds': preds, 'targs': targs, 'vocab': list(dls.vocab)}, 'explorer_state.pt')"})
    nbf.write_text(json.dumps(nbj))
    page, nb = _open(browser, lab, '10_multilabel.ipynb')
    try:
        nb.run_all()
        state = torch.load(lab['work']/'explorer_state.pt', weights_only=True)
        cell = nb.rerun_cell('explorer = threshold_explorer(')
        box = cell.locator('.thresh-table').first
        box.wait_for(timeout=60_000)
        area = cell.locator('.jp-OutputArea')

        def shown():
            thresh = _readouts(area)['threshold']
            nums = {k: _num(area.locator(f'b.{k}').inner_text()) for k in ('acc', 'f1', 'prec', 'rec', 'tp', 'fp', 'fn')}
            rows = [r.locator('td').all_inner_texts() for r in area.locator('.thresh-table tr').all()[1:]]
            return thresh, nums, rows

        def picture():                                                     # the curves and the grid, drawn by the kernel
            img = area.locator('.jp-OutputArea-output img').first
            img.wait_for(timeout=60_000); return img.get_attribute('src')

        def expected(t):
            grid = range(min(8, len(state['preds'])))                      # the explorer's fixed grid: the first 8 validation images
            return {'acc': t['accuracy'], 'f1': t['f1'], 'prec': t['precision_all'], 'rec': t['recall_all'],
                    **{k.lower(): sum(len(t['outcomes'][i][k]) for i in grid) for k in ('TP', 'FP', 'FN')}}

        th0, nums0, rows0 = shown()
        assert th0 == 0.5
        t0 = threshold_table(state['preds'], state['targs'], state['vocab'], th0)
        assert nums0 == pytest.approx(expected(t0), abs=6e-5), (nums0, expected(t0))
        pic0 = picture()

        _press(area.locator('.noUi-handle'), 'ArrowLeft', 30)              # 0.50 → 0.20 in steps of 0.01
        page.wait_for_function("() => { const b = document.querySelector('.thresh-table').closest('.jp-OutputArea')"
                               ".querySelector('.widget-readout'); return b && parseFloat(b.textContent) <= 0.21; }", timeout=30_000)
        page.wait_for_timeout(800)
        nb.wait_idle()
        th1, nums1, rows1 = shown()
        assert th1 < th0, th1
        t1 = threshold_table(state['preds'], state['targs'], state['vocab'], th1)
        assert nums1 == pytest.approx(expected(t1), abs=6e-5), (th1, nums1, expected(t1))
        assert nums1['rec'] >= nums0['rec'] and nums1['fn'] <= nums0['fn'] and nums1['fp'] >= nums0['fp']   # lower: more found, more false alarms
        assert nums1 != nums0, 'moving the threshold from 0.50 to 0.20 changed none of the numbers shown'
        assert [r[0] for r in rows1] == state['vocab']
        assert [_num(r[2]) for r in rows1] == pytest.approx(t1['recall'], abs=6e-3)      # shown to 2 decimals
        assert [_num(r[1]) for r in rows1] == pytest.approx(t1['precision'], abs=6e-3)
        page.wait_for_function("old => { const i = document.querySelector('.thresh-table').closest('.jp-OutputArea')"
                               ".querySelector('.jp-OutputArea-output img'); return i && i.getAttribute('src') !== old; }",
                               arg=pic0, timeout=30_000)                  # the curves' line and the grid's labels were redrawn
    except Exception as e:
        raise AssertionError(f'{e}\n{_screenshot_on_failure(page, "threshold_explorer")}') from e
    finally:
        page.context.close()
