"""Shared fixtures: a throw-away petbook home, and a web server on 127.0.0.1 that serves what a test puts in it."""
import http.server, threading
from functools import partial
from pathlib import Path
import pytest


class _Handler(http.server.SimpleHTTPRequestHandler):
    "Serves files from `directory`; a `<name>.drop` file next to `<name>` makes the server cut the body short."
    def log_message(self, *a): pass
    def do_GET(self):
        p = Path(self.directory)/self.path.lstrip('/')
        if p.with_name(p.name + '.drop').exists():           # claim the full length, send a third, hang up
            data = p.read_bytes()
            self.send_response(200); self.send_header('Content-Length', str(len(data))); self.end_headers()
            self.wfile.write(data[:len(data)//3]); self.wfile.flush()
            self.close_connection = True
            return
        return super().do_GET()


@pytest.fixture
def server(tmp_path):
    "A loopback HTTP server serving tmp_path/'www'; yields (folder, base_url)."
    www = tmp_path/'www'; www.mkdir()
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), partial(_Handler, directory=str(www)))
    t = threading.Thread(target=srv.serve_forever, daemon=True); t.start()
    yield www, f'http://127.0.0.1:{srv.server_address[1]}'
    srv.shutdown(); srv.server_close()


@pytest.fixture(autouse=True)
def petbook_home(tmp_path, monkeypatch):
    "Never touch the user's real cache from a test."
    home = tmp_path/'petbook-home'
    monkeypatch.setenv('PETBOOK_HOME', str(home))
    return home


def pytest_terminal_summary(terminalreporter):
    "Print the fault suite's count of cases (tests marked `fault`), and how they ended."
    counts = {}
    for outcome in ('passed', 'failed', 'error', 'skipped'):
        for r in terminalreporter.stats.get(outcome, []):
            if r.when in ('call', 'setup') and 'fault' in getattr(r, 'keywords', {}):
                if outcome == 'passed' and r.when == 'setup': continue
                counts[outcome] = counts.get(outcome, 0) + 1
    if counts:
        terminalreporter.write_sep('=', f"fault suite: {sum(counts.values())} cases — " + ', '.join(f'{n} {k}' for k, n in counts.items()))
