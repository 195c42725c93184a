"""The installed package: imports without nbdev, exports match the notebooks' promises."""
import subprocess, sys


def test_imports_without_nbdev():
    code = "import sys; sys.modules['nbdev'] = None; sys.modules['fastcore'] = None; import petbook.all; print('ok')"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == 'ok', out.stderr


def test_all_reexports_public_names():
    import petbook.all as A, petbook.data as D
    for name in D.__all__: assert getattr(A, name) is getattr(D, name), name
    for name in ['get_image_files', 'RegexLabeller', 'using_attr', 'RandomSplitter', 'untar_data', 'URLs', 'get_pets']:
        assert hasattr(A, name), name
