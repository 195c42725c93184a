"""Run fastbook's chapter 5 and 6 code cells on petbook, cell by cell, after a short table of substitutions.

The book's cells are not copied into this repository: point `PETBOOK_FASTBOOK` at a checkout of fastai/fastbook
(its `clean/05_pet_breeds.ipynb` and `clean/06_multicat.ipynb` are read). `tests/book/scenario_*.py` are petbook's
own scripts that call the same names with the same signatures, so CI checks them without the book.
"""
import ast, json, re
from pathlib import Path

#: (book text, what runs instead, why) — applied in order to every code cell, as plain text replacements
SUBS = [
    ('from fastai.vision.all import *', 'from petbook.all import *', 'the library under test'),
    ('from fastai.callback.fp16 import *\n', '', 'to_fp16 is already in petbook.all'),
    ('untar_data(URLs.PETS)', 'get_pets()', 'generated pets (offline, tiny under IN_TEST)'),
    ('untar_data(URLs.PASCAL_2007)', 'get_pascal()', 'generated PASCAL-like set'),
    ('untar_data(URLs.BIWI_HEAD_POSE)', 'get_biwi()', 'generated head-pose set'),
    ('resnet34', 'ARCH', 'offline: pick_arch(resnet34) (efficientnet_lite0 when no ResNet weights are cached)'),
    ('resnet50', 'ARCH', 'the same offline backbone'),
    ('resnet18', 'ARCH', 'the same offline backbone'),
    ('Resize(460)', 'Resize(64)', 'small images for a CPU test'),
    ('aug_transforms(size=224, min_scale=0.75)', 'aug_transforms(size=32, min_scale=0.75)', 'small images'),
    ('RandomResizedCrop(128, min_scale=0.35)', 'RandomResizedCrop(64, min_scale=0.35)', 'small images'),
    ('aug_transforms(size=(240,320))', 'aug_transforms(size=(48,64))', 'small images, the same 3:4 aspect'),
    ('fine_tune(2)', 'fine_tune(1)', 'one epoch'),
    ('fine_tune(2, base_lr=3e-3)', 'fine_tune(1, base_lr=3e-3)', 'one epoch'),
    ('fine_tune(6, freeze_epochs=3)', 'fine_tune(1, freeze_epochs=1)', 'one epoch each phase'),
    ('fine_tune(3, base_lr=3e-3, freeze_epochs=4)', 'fine_tune(1, base_lr=3e-3, freeze_epochs=1)', 'one epoch each phase'),
    ('fine_tune(3, lr)', 'fine_tune(1, lr)', 'one epoch'),
    ('fit_one_cycle(3, 3e-3)', 'fit_one_cycle(1, 3e-3)', 'one epoch'),
    ('fit_one_cycle(6, lr_max=1e-5)', 'fit_one_cycle(1, lr_max=1e-5)', 'one epoch'),
    ('fit_one_cycle(12, lr_max=slice(1e-6,1e-4))', 'fit_one_cycle(1, lr_max=slice(1e-6,1e-4))', 'one epoch'),
    ('lr_find()', 'lr_find(num_it=12)', '12 mini-batches instead of 100'),
    ('lr_find(suggest_funcs=', 'lr_find(num_it=12, suggest_funcs=', '12 mini-batches instead of 100'),
    ('df.style.hide_index()', "df.style.hide(axis='index')", 'pandas 2 renamed Styler.hide_index (not petbook)'),
]

#: (a piece of text that identifies a cell, why it is not run)
SKIP = [
    ('fastbook.setup_book()', "fastbook's own Colab set-up (pip install); petbook needs none"),
    ('from fastbook import *', "fastbook's helper package; `from petbook.all import *` stands in for it"),
    ('x1.affine_coord(sz=224)', "draws the book's presizing figure with fastai internals (TensorImage.affine_coord, "
                                "setup_aug_tfms, Pipeline) on a photo you supply; 02_presizing draws the same figure with petbook"),
    ('learn.fine_tune??', "IPython's `??` shows source code; it runs nothing"),
]

PRELUDE = "ARCH = pick_arch(resnet34, verbose=False)\nfrom IPython.display import display\n"


def book_cells(nb: Path) -> list[str]:
    "The code cells of notebook `nb`, as text."
    cells = json.loads(Path(nb).read_text())['cells']
    return [''.join(c['source']) for c in cells if c['cell_type'] == 'code' and ''.join(c['source']).strip()]


def skip_reason(src: str) -> str | None:
    "Why cell `src` is not run, or None."
    return next((why for key, why in SKIP if key in src), None)


def substitute(src: str) -> str:
    "Cell `src` with every substitution of `SUBS` applied."
    for a, b, _ in SUBS: src = src.replace(a, b)
    return src


def run_cell(src: str, ns: dict):
    "Run `src` in `ns` as a notebook would: statements, then the value of a final expression (returned after repr)."
    tree = ast.parse(src)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, '<book cell>', 'exec'), ns)
    if last is None: return None
    v = eval(compile(ast.Expression(last.value), '<book cell>', 'eval'), ns)
    repr(v)
    return v

#: (a piece of text that identifies a cell, the error it must raise, why) — cells the book shows failing
RAISES = [
    ('pets1.summary(', 'CollateError', "the book shows this cell failing: summary walks one sample, then stops at "
                                       "collation because the images differ in size (no Resize)"),
]


def expected_error(src: str):
    "(error class name, why) if the book shows cell `src` failing, else None."
    return next(((err, why) for key, err, why in RAISES if key in src), None)


def run_book(nb: Path, ns: dict | None = None) -> list[tuple[int, str, str]]:
    "Run every code cell of `nb` in `ns`; return (cell number, 'ok'|'skip'|'raised'|'FAILED', detail) per cell."
    import traceback
    ns = ns if ns is not None else {}
    if 'ARCH' not in ns: exec("from petbook.all import *\n" + PRELUDE, ns)
    out = []
    for i, c in enumerate(book_cells(nb)):
        if (why := skip_reason(c)): out.append((i, 'skip', why)); continue
        exp = expected_error(c)
        try:
            run_cell(substitute(c), ns)
            out.append((i, 'FAILED', f"expected {exp[0]}, ran without error") if exp else (i, 'ok', ''))
        except Exception as e:
            if exp and type(e).__name__ == exp[0]: out.append((i, 'raised', f"{type(e).__name__}, as in the book"))
            else: out.append((i, 'FAILED', f"{c.splitlines()[0][:70]!r}: {type(e).__name__}: {e}\n{traceback.format_exc(limit=-3)}"))
        finally:
            import matplotlib.pyplot as plt; plt.close('all')
    return out
