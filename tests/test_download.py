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
    assert p == petbook_home/'data'/'oxford-iiit-pet'
    assert [f.name for f in get_image_files(p/'images')] == ['Birman_1.jpg', 'beagle_1.jpg', 'pug_1.jpg']
    assert is_cached(url)
    assert not (petbook_home/'data'/'archive'/'oxford-iiit-pet.tgz').exists()   # archive removed once extracted
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
    assert not (petbook_home/'data'/'bad').exists()


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
