"""Write README.md from nbs/index.ipynb (quarto, which nbdev_readme needs, is not available).

Markdown cells are copied; visible code cells become ```python blocks; cells with nbdev directives
(#| export, #| hide, #| default_exp …) are left out. Links to sibling notebooks and to images under nbs/ are made relative to the repo root.
`--check` exits 1 (and says so) when README.md is not what index.ipynb generates."""
import json, re, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def render(nb_path: Path) -> str:
    nb = json.loads(nb_path.read_text(encoding='utf-8'))
    parts = ['<!-- generated from nbs/index.ipynb by .ci/make_readme.py: edit the notebook, not this file -->']
    for c in nb['cells']:
        src = ''.join(c['source']).strip()
        if not src: continue
        if c['cell_type'] == 'markdown':
            src = re.sub(r'\]\((?!https?:|#|/)([^)]+\.(?:ipynb|png|jpg|svg))\)', r'](nbs/\1)', src)
            parts.append(src)
        elif c['cell_type'] == 'code':
            if any(l.strip().startswith('#|') for l in src.splitlines()): continue
            parts.append('```python\n' + src + '\n```')
    return '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text = render(root/'nbs'/'index.ipynb')
    readme = root/'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text(encoding='utf-8') != text:
            sys.exit('README.md is out of date with nbs/index.ipynb: run `python .ci/make_readme.py` and commit.')
        print('README.md is current.')
    else:
        readme.write_text(text, encoding='utf-8'); print('wrote README.md')
