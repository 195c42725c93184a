"""The suite: every headline comparison in one run, each into bench/results/<part>.json, then the report.

    bash bench/setup_peer.sh && python -m bench.run_all          # every part (CPU: about an hour on 2 idle cores), then the report
    python -m bench.run_all dataloader lr_find                   # some parts again, then the report
    python -m bench.run_all --device cuda                        # on a GPU: bench/device.sh runs this
    python -m bench.report                                       # only the report, from bench/results

Parts (CPU): overhead, dataloader, lr_find, fine_tune (generated pets, 10 seeds, fastai as shipped on the first 3
too), fine_tune_real (the real photos), distributed (1 vs 2 processes under torchrun), nbdev_test (the whole notebook series as CI runs it). On a GPU: the same
with --device cuda, fine_tune_fp16 and lr_find_fp16 added, fine_tune_real left out; results in bench/results/cuda."""
import argparse, os, subprocess, sys, time
from pathlib import Path
from .recipes import RESULTS, ROOT, save

TEN, THREE = [str(s) for s in range(10)], ['0', '1', '2']
PARTS = {                                  # part: (module, arguments)
    'overhead': ('bench.overhead', []),
    'dataloader': ('bench.dataloader', []),
    # the generated pets' recipe: BatchNorm statistics that follow the cartoons fast (nbs/07_transfer), for both libraries
    'lr_find': ('bench.fine_tune', ['--lr-find', '--seeds', *THREE, '--shipped-seeds', '0', '--bn-momentum', '0.1']),
    'fine_tune': ('bench.fine_tune', ['--seeds', *TEN, '--shipped-seeds', *THREE, '--bn-momentum', '0.1']),
    # real Oxford-IIIT Pet photos (../shared/realpets), the networks' own BatchNorm settings, the issue's Resize(160)
    'fine_tune_real': ('bench.fine_tune', ['--seeds', *TEN, '--shipped-seeds', *THREE, '--data', 'real', '--item-size', '160',
                                           '--name', 'fine_tune_real']),
    # petbook.distributed (nbs/94_distributed): the same recipe in 1 and 2 processes under torchrun
    'distributed': ('bench.distributed', []),
    'nbdev_test': (None, []),
}
GPU = ['--device', 'cuda']
GPU_PARTS = {
    'overhead': ('bench.overhead', [*GPU, '--reps', '10']),
    'dataloader': ('bench.dataloader', GPU),
    'lr_find': ('bench.fine_tune', ['--lr-find', '--bn-momentum', '0.1', *GPU, '--workers', '8']),
    'lr_find_fp16': ('bench.fine_tune', ['--lr-find', '--bn-momentum', '0.1', *GPU, '--workers', '8', '--fp16', '--name', 'lr_find_fp16']),
    'fine_tune': ('bench.fine_tune', ['--seeds', *TEN, '--bn-momentum', '0.1', *GPU, '--workers', '8']),
    'fine_tune_fp16': ('bench.fine_tune', ['--seeds', *TEN, '--bn-momentum', '0.1', *GPU, '--workers', '8', '--fp16', '--name', 'fine_tune_fp16']),
    'distributed': ('bench.distributed', []),             # 1 process and one per GPU (needs 2 GPUs or more to compare)
    'nbdev_test': (None, []),
}


def nbdev_test(device='cpu'):
    "The whole notebook series as CI runs it, timed; results/nbdev_test.json."
    env = {**os.environ, 'PATH': f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    if device == 'cpu': env['OMP_NUM_THREADS'] = '1'
    workers = '2' if device == 'cpu' else '4'
    t = time.perf_counter()
    r = subprocess.run(['nbdev_test', '--n_workers', workers], cwd=ROOT, env=env)
    wall = time.perf_counter() - t
    if r.returncode: sys.exit(f'nbdev_test failed ({r.returncode})')
    n = len(list((ROOT/'nbs').glob('*.ipynb')))
    save({'wall_s': wall, 'notebooks': n, 'workers': int(workers)}, RESULTS/('cuda' if device == 'cuda' else '')/'nbdev_test.json')
    print(f'nbdev_test --n_workers {workers}: {wall:.0f} s for {n} notebooks')


def run_part(name, device='cpu'):
    "One part in its own process (nothing of one part's process state reaches the next)."
    module, args = (GPU_PARTS if device == 'cuda' else PARTS)[name]
    print(f'== {name} ({device}, {time.strftime("%H:%M:%S")})', flush=True)
    if module is None: return nbdev_test(device)
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join(p for p in (str(ROOT), os.environ.get('PYTHONPATH')) if p)}
    subprocess.run([sys.executable, '-m', module, *args], cwd=ROOT, env=env, check=True)


def main(argv=None):
    "Run the named parts (default: all), then write the report."
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('parts', nargs='*'); ap.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    ap.add_argument('--report', action='store_true', help='only write the report')
    a = ap.parse_args(argv)
    parts = GPU_PARTS if a.device == 'cuda' else PARTS
    if unknown := [p for p in a.parts if p not in parts]: sys.exit(f"unknown parts {unknown}; the parts are {list(parts)}")
    if not a.report:
        for p in a.parts or parts: run_part(p, a.device)
    from .report import main as report
    report()


if __name__ == '__main__': main()
