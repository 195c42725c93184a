"""The installed package: imports without nbdev, exports match the notebooks' promises."""
import subprocess, sys


def test_imports_without_nbdev():
    code = "import sys; sys.modules['nbdev'] = None; sys.modules['fastcore'] = None; import petbook.all; print('ok')"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == 'ok', out.stderr


def test_star_import_gives_the_books_names():
    import importlib, petbook.all as A
    ns = {}
    exec('from petbook.all import *', ns)
    for mod in ['data', 'augment', 'datablock', 'losses', 'learner', 'schedule', 'vision', 'interpret', 'multilabel', 'regression']:
        m = importlib.import_module(f'petbook.{mod}')
        for name in m.__all__: assert ns.get(name) is getattr(m, name), (mod, name)
    for name in ['get_image_files', 'RegexLabeller', 'using_attr', 'RandomSplitter', 'untar_data', 'URLs', 'get_pets',
                 'DataBlock', 'ImageBlock', 'CategoryBlock', 'Resize', 'aug_transforms', 'Normalize', 'imagenet_stats']:
        assert name in ns, name
