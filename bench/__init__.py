"""petbook's benchmarks against fastai and a bare PyTorch loop: run them as modules from the checkout's root,
`python -m bench.run_all` (bench/README.md says which script answers which question)."""
