"""Helpers shared by the benchmarks: the generated data they all use, and running code in the peer (fastai) venv."""
import json, os, platform, subprocess, sys, textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL_PETS = ROOT.parent/'shared'/'realpets'/'images'   # Oxford-IIIT Pet photos beside the checkout (CI copies shared/ there)
PEER = Path(os.environ.get('PEER_PYTHON', ROOT/'.bench-venv'/'bin'/'python'))


def cpu_model() -> str:
    "The CPU's name and its widest vector unit: the machines a session gets differ, and so do their timings."
    try: info = Path('/proc/cpuinfo').read_text()
    except OSError: return platform.processor() or platform.machine()
    name = next((l.split(':', 1)[1].strip() for l in info.splitlines() if l.startswith('model name')), platform.machine())
    flags = set(next((l.split(':', 1)[1].split() for l in info.splitlines() if l.startswith('flags')), []))
    isa = 'AVX-512' + (' + bf16' if 'avx512_bf16' in flags else '') if 'avx512f' in flags else 'AVX2' if 'avx2' in flags else 'no AVX2'
    return f"{name} ({isa})"


def machine() -> str:
    import torch
    gpu = f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ''
    return f"{cpu_model()}, {os.cpu_count()} cores{gpu}, torch {torch.__version__}, Python {platform.python_version()}"


def decode_resize(files) -> int:
    "JPEG decode + Resize(460) of `files` and nothing else, one torch thread as in a DataLoader worker: the pipeline's ceiling."
    import torch
    from petbook.all import Resize, open_image
    torch.set_num_threads(1)
    r = Resize(460)
    for f in files: r(open_image(f), 0)
    return len(files)


def pets_path(n_per_breed=40, seed=42) -> Path:
    "The generated pets the benchmarks share (photo-like sizes 150–600 px), drawn once into the petbook cache."
    from petbook.data import get_pets
    return get_pets('generated', n_per_breed=n_per_breed, seed=seed, verbose=False)


def run_peer(code: str, timeout=1800, env_extra=None, stream=False) -> dict:
    """Run `code` in the fastai venv (with `env_extra` added to its environment); it must print one JSON line last.
    Returns that dict. `stream`: let its stderr (progress) through as it comes, instead of keeping it for errors."""
    if not PEER.exists():
        sys.exit(f"peer venv missing ({PEER}): run bash bench/setup_peer.sh first")
    env = {**os.environ, **(env_extra or {})}
    if os.environ.get('PEER_PYTHONPATH'):     # where the peer's packages aren't in its interpreter (bench/device.sh)
        env['PYTHONPATH'] = os.pathsep.join([os.environ['PEER_PYTHONPATH'], env.get('PYTHONPATH', '')])
    out = subprocess.run([str(PEER), '-c', textwrap.dedent(code)], stdout=subprocess.PIPE, stderr=None if stream else subprocess.PIPE,
                         text=True, timeout=timeout, env=env)
    if out.returncode != 0: sys.exit(f"peer run failed:\n{out.stderr[-3000:] if out.stderr else '(its error is above)'}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# glibc's malloc settings that petbook's `keep_freed_memory` makes (nbs/03_datablock): given to the peer with
# `bench/fine_tune.py --peer-malloc`, to show how much of a comparison is that setting rather than the pipeline.
SAME_MALLOC = {'MALLOC_MMAP_THRESHOLD_': str(1 << 30), 'MALLOC_TRIM_THRESHOLD_': str(1 << 30)}
