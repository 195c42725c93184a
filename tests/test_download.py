"""untar_data / download_url against a real HTTP server on 127.0.0.1 serving archives the tests build."""
import builtins, errno, hashlib, io, tarfile, zipfile
from pathlib import Path
import pytest
pytestmark = pytest.mark.fault   # the download faults are part of the fault suite

from petbook.external import untar_data, download_url, extract_archive, is_cached, DownloadError
from petbook.data import get_image_files
from petbook.synth import make_pets


def _tgz(path, members):
    "Write a .tgz whose members are {name: bytes}."
    with tarfile.open(path, 'w:gz') as tf:
        for name, data in members.items():
            ti = tarfile.TarInfo(name); ti.size = len(data); tf.addfile(ti, io.BytesIO(data))
    return path

def _md5(p): return hashlib.md5(Path(p).read_bytes()).hexdigest()

def _pets_archive(www, tmp_path):
    "A small real-looking pets archive: oxford-iiit-pet/images/*.jpg drawn by make_pets."
    src = make_pets(tmp_path/'src'/'oxford-iiit-pet', n_per_breed=1, breeds=['Birman', 'beagle', 'pug'])
    arc = www/'oxford-iiit-pet.tgz'
    with tarfile.open(arc, 'w:gz') as tf: tf.add(src, arcname='oxford-iiit-pet')
    return arc


def test_good_archive_is_cached_and_listed(server, tmp_path, petbook_home):
    www, base = server
    arc = _pets_archive(www, tmp_path)
    url = f'{base}/oxford-iiit-pet.tgz'
    p = untar_data(url, size=arc.stat().st_size, md5=_md5(arc))
    assert p.parent == petbook_home/'data' and p.name.startswith('oxford-iiit-pet-')   # a URL not in CHECKS: name + hash
    assert [f.name for f in get_image_files(p/'images')] == ['Birman_1.jpg', 'beagle_1.jpg', 'pug_1.jpg']
    assert is_cached(url)
    assert not list((petbook_home/'data'/'archive').iterdir())                   # archive removed once extracted
    arc.unlink()                                                                 # a second call needs no network
    assert untar_data(url, md5='whatever') == p


def test_truncated_download_leaves_nothing(server, tmp_path, petbook_home):
    www, base = server
    arc = _pets_archive(www, tmp_path); (www/(arc.name + '.drop')).touch()
    url = f'{base}/{arc.name}'
    with pytest.raises(DownloadError, match='stopped early|could not download'):
        untar_data(url, md5=_md5(arc))
    assert not is_cached(url)
    left = [p for p in (petbook_home/'data').rglob('*') if p.is_file()] if (petbook_home/'data').exists() else []
    assert left == [], left


def test_wrong_checksum_is_refused(server, tmp_path, petbook_home):
    www, base = server
    arc = _pets_archive(www, tmp_path)
    url = f'{base}/{arc.name}'
    with pytest.raises(DownloadError, match='corrupt'):
        untar_data(url, md5='0' * 32)
    with pytest.raises(DownloadError, match='expected 5'):
        untar_data(url, size=5)
    assert not is_cached(url) and not list((petbook_home/'data').rglob('*.tgz*'))


@pytest.mark.parametrize('member', ['../evil.txt', 'pets/../../evil.txt', '/tmp/evil.txt'])
def test_escaping_members_are_refused(server, tmp_path, petbook_home, member):
    www, base = server
    arc = _tgz(www/'bad.tgz', {'pets/images/ok.txt': b'ok', member: b'gotcha'})
    with pytest.raises(DownloadError, match='refusing'):
        untar_data(f'{base}/bad.tgz', md5=_md5(arc))
    assert not (tmp_path/'evil.txt').exists() and not Path('/tmp/evil.txt').exists()
    assert not is_cached(f'{base}/bad.tgz')
    assert not [p for p in (petbook_home/'data').iterdir() if p.name.startswith('bad')]


def test_link_out_of_archive_is_refused(tmp_path):
    arc = tmp_path/'link.tgz'
    with tarfile.open(arc, 'w:gz') as tf:
        ti = tarfile.TarInfo('pets/passwd'); ti.type = tarfile.SYMTYPE; ti.linkname = '/etc/passwd'; tf.addfile(ti)
    with pytest.raises(DownloadError, match='link'):
        extract_archive(arc, tmp_path/'out')


def test_zip_with_dotdot_is_refused(tmp_path):
    arc = tmp_path/'bad.zip'
    with zipfile.ZipFile(arc, 'w') as z: z.writestr('../evil.txt', 'x')
    with pytest.raises(DownloadError, match=r"'\.\.'"):
        extract_archive(arc, tmp_path/'out')


def test_missing_file_and_no_server(server, tmp_path):
    www, base = server
    with pytest.raises(DownloadError, match='404'):
        download_url(f'{base}/nope.tgz', tmp_path/'nope.tgz')
    with pytest.raises(DownloadError, match='could not download'):
        download_url('http://127.0.0.1:9/x.tgz', tmp_path/'x.tgz', timeout=2)   # port 9: nothing listens
    assert not list(tmp_path.glob('*.part'))


def test_disk_full_leaves_nothing(server, tmp_path, monkeypatch):
    www, base = server
    arc = _pets_archive(www, tmp_path)
    real_open = builtins.open
    class _Full(io.RawIOBase):
        def __init__(self, f): self.f = f
        def write(self, b): raise OSError(errno.ENOSPC, 'No space left on device')
        def __enter__(self): return self
        def __exit__(self, *a): self.f.close()
    def fake_open(file, mode='r', *a, **k):
        f = real_open(file, mode, *a, **k)
        return _Full(f) if str(file).endswith('.part') and 'w' in mode else f
    monkeypatch.setattr(builtins, 'open', fake_open)
    with pytest.raises(DownloadError, match='No space left'):
        download_url(f'{base}/{arc.name}', tmp_path/'dl'/arc.name, md5=_md5(arc))
    assert not list((tmp_path/'dl').iterdir())


# ---------------------------------------------------------------- issue 24: links, bombs, a cache that never keeps bad data
import http.server, os, threading, gzip
from functools import partial


def _tar_bytes(members, mode='w'):
    "An uncompressed (or `mode` 'w:gz') tar in memory from [(TarInfo, bytes | None)]."
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for ti, data in members:
            if data is not None: ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()

def _link(name, target, kind=tarfile.SYMTYPE):
    ti = tarfile.TarInfo(name); ti.type = kind; ti.linkname = target; return ti

def _file(name): return tarfile.TarInfo(name)


@pytest.fixture
def old_tarfile(monkeypatch):
    "tarfile as on Python 3.9.0–3.9.16, 3.10.0–3.10.11, 3.11.0–3.11.3: no data_filter, links followed as stored."
    monkeypatch.delattr(tarfile, 'data_filter', raising=False)
    if hasattr(tarfile, 'fully_trusted_filter'):
        monkeypatch.setattr(tarfile.TarFile, 'extraction_filter', staticmethod(tarfile.fully_trusted_filter))


@pytest.mark.parametrize('chain', [
    [('a/l1', '..'), ('a/l1/l2', '..')],                                   # each link looks inside on its own
    [('l1', '.'), ('l1/l2', '..')],
    [('d/l1', '.'), ('d/l1/l2', '..'), ('d/l1/l2/l3', '..'), ('d/l1/l2/l3/l4', '..')],
])
def test_link_chain_cannot_escape_without_data_filter(tmp_path, old_tarfile, chain):
    dest = tmp_path/'deep'/'er'/'out'
    last = chain[-1][0]
    arc = tmp_path/'chain.tar'
    arc.write_bytes(_tar_bytes([*[(_link(n, t), None) for n, t in chain], (_file(f'{last}/evil.txt'), b'gotcha')]))
    with pytest.raises(DownloadError, match='outside'):
        extract_archive(arc, dest)
    assert not [p for p in tmp_path.rglob('evil.txt')], list(tmp_path.rglob('evil.txt'))


def test_symlink_inside_is_kept_without_data_filter(tmp_path, old_tarfile):
    arc = tmp_path/'ok.tar'
    arc.write_bytes(_tar_bytes([(_file('pets/a.txt'), b'A'), (_link('pets/b.txt', 'a.txt'), None),
                                (_link('pets/c.txt', 'pets/a.txt', tarfile.LNKTYPE), None)]))
    out = extract_archive(arc, tmp_path/'out')
    assert (out/'pets'/'b.txt').read_text() == 'A' and (out/'pets'/'c.txt').read_text() == 'A'


def test_hardlink_to_a_missing_member_is_a_clear_error(tmp_path):
    arc = tmp_path/'hl.tar'
    arc.write_bytes(_tar_bytes([(_file('pets/a.txt'), b'A'), (_link('pets/b.txt', 'pets/nowhere.txt', tarfile.LNKTYPE), None)]))
    with pytest.raises(DownloadError, match=r"hardlink 'pets/b\.txt'.*'pets/nowhere\.txt'"):
        extract_archive(arc, tmp_path/'out')
    assert not (tmp_path/'out').exists()


def test_tar_bomb_is_refused_with_a_limit_you_can_raise(tmp_path, monkeypatch):
    arc = tmp_path/'bomb.tgz'
    arc.write_bytes(_tar_bytes([(_file('pets/zeros.bin'), bytes(20 << 20))], mode='w:gz'))   # 20 MB of zeros in ~20 KB
    assert arc.stat().st_size < 100_000
    with pytest.raises(DownloadError, match='PETBOOK_UNPACK_RATIO') as e:
        extract_archive(arc, tmp_path/'out')
    assert 'max_ratio' in str(e.value) and not (tmp_path/'out').exists()
    assert (extract_archive(arc, tmp_path/'out2', max_ratio=5000)/'pets'/'zeros.bin').stat().st_size == 20 << 20
    monkeypatch.setenv('PETBOOK_UNPACK_RATIO', '5000')
    assert (extract_archive(arc, tmp_path/'out3')/'pets'/'zeros.bin').exists()


def test_too_many_members_is_refused(tmp_path, monkeypatch):
    arc = tmp_path/'many.tgz'
    arc.write_bytes(_tar_bytes([(_file(f'pets/{i}.txt'), b'') for i in range(60)], mode='w:gz'))
    monkeypatch.setenv('PETBOOK_MAX_MEMBERS', '50')
    with pytest.raises(DownloadError, match='PETBOOK_MAX_MEMBERS'):
        extract_archive(arc, tmp_path/'out')
    assert len(list((extract_archive(arc, tmp_path/'out2', max_members=100)/'pets').iterdir())) == 60


class _NoLength(http.server.BaseHTTPRequestHandler):
    "Serves `files[path]` with no Content-Length (the end is when the server hangs up), cut to `cut[path]` bytes if set."
    files, cut = {}, {}
    def log_message(self, *a): pass
    def do_GET(self):
        data = self.files.get(self.path)
        if data is None: self.send_error(404); return
        self.send_response(200); self.end_headers()
        self.wfile.write(data[:self.cut.get(self.path, len(data))]); self.wfile.flush()


@pytest.fixture
def nolength():
    "A loopback server without Content-Length: yields (files, cut, base_url); change the dicts to change what it serves."
    files, cut = {}, {}
    handler = type('H', (_NoLength,), {'files': files, 'cut': cut})
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield files, cut, f'http://127.0.0.1:{srv.server_address[1]}'
    srv.shutdown(); srv.server_close()


def _ten_images():
    return [(_file(f'pets/images/pug_{i}.jpg'), bytes([i]) * 700) for i in range(10)]

def _cached_files(petbook_home):
    d = petbook_home/'data'
    return [p for p in d.rglob('*') if p.is_file()] if d.exists() else []


def test_tar_cut_at_a_member_boundary_is_not_cached(nolength, petbook_home):
    files, cut, base = nolength
    data = _tar_bytes(_ten_images())
    files['/pets.tar'] = data
    with tarfile.open(fileobj=io.BytesIO(data)) as tf: cut['/pets.tar'] = tf.getmembers()[4].offset   # 4 whole images, then nothing
    with pytest.raises(DownloadError, match='end-of-archive'):
        untar_data(f'{base}/pets.tar')
    assert not is_cached(f'{base}/pets.tar') and _cached_files(petbook_home) == []
    del cut['/pets.tar']                                                  # the server is fixed: the retry gets all ten
    p = untar_data(f'{base}/pets.tar')
    assert len(list((p/'images').iterdir())) == 10


@pytest.mark.parametrize('force', [False, True])
def test_truncated_tgz_is_deleted_and_the_retry_downloads_again(nolength, petbook_home, force):
    files, cut, base = nolength
    data = _tar_bytes(_ten_images(), mode='w:gz')
    files['/pets.tgz'], cut['/pets.tgz'] = data, len(data) - 6              # only the gzip trailer is missing
    with pytest.raises(DownloadError):
        untar_data(f'{base}/pets.tgz')
    assert _cached_files(petbook_home) == []                              # nothing bad kept in archive/
    del cut['/pets.tgz']
    p = untar_data(f'{base}/pets.tgz', force_download=force)
    assert len(list((p/'images').iterdir())) == 10


def test_gzip_with_a_bad_crc_is_refused(tmp_path):
    data = bytearray(_tar_bytes(_ten_images(), mode='w:gz')); data[-8] ^= 0xFF   # the CRC in the trailer
    arc = tmp_path/'bad.tgz'; arc.write_bytes(bytes(data))
    with pytest.raises(DownloadError, match='corrupt|CRC'):
        extract_archive(arc, tmp_path/'out')


def test_force_download_fetches_again(nolength, petbook_home):
    files, cut, base = nolength
    files['/pets.tgz'] = _tar_bytes([(_file('pets/v.txt'), b'v1')], mode='w:gz')
    assert (untar_data(f'{base}/pets.tgz')/'v.txt').read_text() == 'v1'
    files['/pets.tgz'] = _tar_bytes([(_file('pets/v.txt'), b'v2')], mode='w:gz')
    assert (untar_data(f'{base}/pets.tgz')/'v.txt').read_text() == 'v1'                      # cached
    assert (untar_data(f'{base}/pets.tgz', force_download=True)/'v.txt').read_text() == 'v2'


def test_two_urls_with_the_same_file_name_do_not_share_the_cache(nolength, petbook_home):
    files, cut, base = nolength
    files['/v1/pets.tgz'] = _tar_bytes([(_file('pets/v.txt'), b'v1')], mode='w:gz')
    files['/v2/pets.tgz'] = _tar_bytes([(_file('pets/v.txt'), b'v2')], mode='w:gz')
    p1, p2 = untar_data(f'{base}/v1/pets.tgz'), untar_data(f'{base}/v2/pets.tgz')
    assert p1 != p2 and (p1/'v.txt').read_text() == 'v1' and (p2/'v.txt').read_text() == 'v2'
    assert is_cached(f'{base}/v1/pets.tgz') and is_cached(f'{base}/v2/pets.tgz') and not is_cached(f'{base}/v3/pets.tgz')


def test_zip_bomb_and_bad_zip_crc_are_refused(tmp_path):
    arc = tmp_path/'bomb.zip'
    with zipfile.ZipFile(arc, 'w', zipfile.ZIP_DEFLATED) as z: z.writestr('pets/zeros.bin', bytes(20 << 20))
    with pytest.raises(DownloadError, match='PETBOOK_UNPACK_RATIO'): extract_archive(arc, tmp_path/'out')
    assert not (tmp_path/'out').exists()
    ok = tmp_path/'ok.zip'
    with zipfile.ZipFile(ok, 'w', zipfile.ZIP_STORED) as z: z.writestr('pets/a.txt', b'hello pets')
    data = bytearray(ok.read_bytes()); k = data.index(b'hello pets'); data[k] ^= 0x20; ok.write_bytes(bytes(data))   # flip a byte of the data
    with pytest.raises(DownloadError, match='corrupt'): extract_archive(ok, tmp_path/'out2')
    assert not (tmp_path/'out2').exists()


def test_url_with_a_query_string_gets_a_clean_folder(nolength, petbook_home):
    files, cut, base = nolength
    files['/dl/pets.tgz?raw=1'] = _tar_bytes([(_file('pets/v.txt'), b'q')], mode='w:gz')
    p = untar_data(f'{base}/dl/pets.tgz?raw=1')
    assert (p/'v.txt').read_text() == 'q' and '?' not in p.name and p.name.startswith('pets-')
