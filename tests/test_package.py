"""The installed package: imports without nbdev, exports match the notebooks' promises."""
import os, subprocess, sys


def test_imports_without_nbdev():
    code = "import sys; sys.modules['nbdev'] = None; sys.modules['fastcore'] = None; import petbook.all; print('ok')"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == 'ok', out.stderr


def test_import_leaves_torchvision_until_a_resnet_is_built():
    "torchvision's import loads torch._dynamo (seconds, in every notebook and command): petbook defers it (nbs/92_models)."
    code = ("import sys, petbook.all as A; tv = lambda: print('torchvision:', 'torchvision' in sys.modules); tv(); "
            "A.pick_arch(A.resnet34); tv(); A.resnet18(); tv()")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env={**os.environ, 'PETBOOK_OFFLINE': '1'})
    assert out.returncode == 0, out.stderr
    said = [l.split()[-1] for l in out.stdout.splitlines() if l.startswith('torchvision:')]
    assert said == ['False', 'False', 'True'], out.stdout

def test_star_import_gives_the_books_names():
    import importlib, petbook.all as A
    ns = {}
    exec('from petbook.all import *', ns)
    for mod in ['external', 'synth', 'fast', 'models', 'data', 'augment', 'datablock', 'losses', 'learner', 'schedule', 'vision', 'tricks',
                'interpret', 'multilabel', 'regression', 'inference']:
        m = importlib.import_module(f'petbook.{mod}')
        for name in m.__all__: assert ns.get(name) is getattr(m, name), (mod, name)
    for name in ['get_image_files', 'RegexLabeller', 'using_attr', 'RandomSplitter', 'untar_data', 'URLs', 'get_pets',
                 'DataBlock', 'ImageBlock', 'CategoryBlock', 'Resize', 'aug_transforms', 'Normalize', 'imagenet_stats']:
        assert name in ns, name


def test_readme_map_has_a_picture_for_every_notebook():
    "The front page's notebook map: every notebook listed once, with its picture committed and a readable PNG."
    import re
    from pathlib import Path
    from PIL import Image
    root = Path(__file__).resolve().parent.parent
    readme = (root/'README.md').read_text(encoding='utf-8')
    rows = re.findall(r'^\| !\[([^\]]*)\]\((nbs/images/[^)]+)\) \| \[(\w+)\]\(nbs/(\w+)\.ipynb\)', readme, flags=re.M)
    notebooks = sorted(p.stem for p in (root/'nbs').glob('[0-9][0-9]_*.ipynb'))
    assert sorted(r[2] for r in rows) == notebooks, (rows, notebooks)
    for alt, img, name, link in rows:
        assert alt == name == link, (alt, name, link)
        with Image.open(root/img) as im:
            assert im.format == 'PNG' and 100 <= im.width <= 400 and 60 <= im.height <= 300, (img, im.format, im.size)
            assert len(im.convert('L').getcolors(256)) > 8, f"{img} is (nearly) blank"   # distinct grey levels
