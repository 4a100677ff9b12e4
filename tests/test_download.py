"""download_file against a local HTTP server (mirrors, checksums, Range resume) and safe_extract."""

import hashlib
import io
import os
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lit_gan.download import (
    DownloadError,
    UnsafeArchiveError,
    download_file,
    part_path,
    safe_extract,
)
from tests.data.archive_helpers import dead_url

PAYLOAD = bytes(range(256)) * 40  # 10240 bytes
MD5 = hashlib.md5(PAYLOAD).hexdigest()
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    """Serves `files`; honours `Range: bytes=N-` when `ranges` is True; logs every request."""

    files: dict[str, bytes] = {}
    ranges = True
    cut: int | None = None  # send at most this many body bytes, then drop the connection
    log: list[tuple[str, str | None, int]] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = self.files.get(self.path)
        if body is None:
            self.log.append((self.path, None, 0))  # log before replying: the client may return at once
            self.send_error(404, "Not Found")
            return
        rng = self.headers.get("Range")
        start = int(rng.removeprefix("bytes=").rstrip("-")) if rng and self.ranges else 0
        if start >= len(body) and start:
            self.send_error(416, "Range Not Satisfiable")
            return
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        sent = body[start:][: self.cut]
        self.log.append((self.path, rng, len(sent)))  # before the body: the client returns once it has it
        self.wfile.write(sent)
        if self.cut is not None:
            self.close_connection = True

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def server():
    """A bounded local server: shut down at teardown, or after 30 s whatever happens."""
    handler = type("H", (_Handler,), {"files": {}, "log": [], "ranges": True, "cut": None})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    backstop = threading.Timer(30, httpd.shutdown)
    backstop.daemon = True
    backstop.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    backstop.cancel()
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def test_download_verifies_and_skips_second_time(server, tmp_path):
    server.RequestHandlerClass.files["/f.bin"] = PAYLOAD
    dest = tmp_path / "sub" / "f.bin"
    out = download_file([server.url + "/f.bin"], dest, md5=MD5, sha256=SHA256,
                        expected_size=len(PAYLOAD), progress=False)
    assert out == dest and dest.read_bytes() == PAYLOAD
    assert not part_path(dest).exists()
    download_file([server.url + "/f.bin"], dest, md5=MD5, progress=False)
    assert len(server.RequestHandlerClass.log) == 1  # verified file is not fetched again


def test_progress_bar_goes_to_stderr(server, tmp_path, capsys):
    server.RequestHandlerClass.files["/f.bin"] = PAYLOAD
    download_file([server.url + "/f.bin"], tmp_path / "f.bin", md5=MD5, progress=True)
    captured = capsys.readouterr()
    assert "f.bin" in captured.err and captured.out == ""


def test_bad_checksum_tries_next_mirror(server, tmp_path):
    files = server.RequestHandlerClass.files
    files["/bad/f.bin"] = PAYLOAD[:-1] + b"X"
    files["/good/f.bin"] = PAYLOAD
    dest = tmp_path / "f.bin"
    download_file([server.url + "/bad/f.bin", server.url + "/good/f.bin"], dest, md5=MD5, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert [p for p, _, _ in server.RequestHandlerClass.log] == ["/bad/f.bin", "/good/f.bin"]
    assert not part_path(dest).exists()


def test_all_mirrors_fail_lists_each_and_says_where_to_put_file(server, tmp_path):
    server.RequestHandlerClass.files["/bad/f.bin"] = b"corrupt"
    urls = [server.url + "/bad/f.bin", server.url + "/missing/f.bin", dead_url("f.bin")]
    dest = tmp_path / "f.bin"
    with pytest.raises(DownloadError) as e:
        download_file(urls, dest, md5=MD5, timeout=5, progress=False)
    msg = str(e.value)
    for url in urls:
        assert url in msg
    assert "corrupt: md5" in msg and "404" in msg and "Connection refused" in msg
    assert str(dest.resolve()) in msg and MD5 in msg
    assert not dest.exists() and not part_path(dest).exists()


def test_resumes_partial_file_with_range(server, tmp_path):
    server.RequestHandlerClass.files["/f.bin"] = PAYLOAD
    dest = tmp_path / "f.bin"
    part_path(dest).write_bytes(PAYLOAD[:4000])
    download_file([server.url + "/f.bin"], dest, md5=MD5, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert server.RequestHandlerClass.log == [("/f.bin", "bytes=4000-", len(PAYLOAD) - 4000)]


def test_dropped_connection_keeps_part_and_next_run_resumes(server, tmp_path):
    handler = server.RequestHandlerClass
    handler.files["/f.bin"] = PAYLOAD
    handler.cut = 3000
    dest = tmp_path / "f.bin"
    with pytest.raises(DownloadError, match="IncompleteRead|closed"):
        download_file([server.url + "/f.bin"], dest, md5=MD5, timeout=5, progress=False)
    assert part_path(dest).read_bytes() == PAYLOAD[:3000] and not dest.exists()
    handler.cut = None
    download_file([server.url + "/f.bin"], dest, md5=MD5, timeout=5, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert handler.log[-1] == ("/f.bin", "bytes=3000-", len(PAYLOAD) - 3000)


def test_server_without_range_restarts_from_zero(server, tmp_path):
    server.RequestHandlerClass.files["/f.bin"] = PAYLOAD
    server.RequestHandlerClass.ranges = False
    dest = tmp_path / "f.bin"
    part_path(dest).write_bytes(b"stale bytes")
    download_file([server.url + "/f.bin"], dest, md5=MD5, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert server.RequestHandlerClass.log[0][2] == len(PAYLOAD)


def test_wrong_partial_file_is_dropped_and_refetched(server, tmp_path):
    server.RequestHandlerClass.files["/f.bin"] = PAYLOAD
    dest = tmp_path / "f.bin"
    part_path(dest).write_bytes(b"\xff" * 100)  # not a prefix of PAYLOAD: resume gives a bad md5
    url = server.url + "/f.bin"
    download_file([url, url], dest, md5=MD5, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert [r for _, r, _ in server.RequestHandlerClass.log] == ["bytes=100-", None]


# ---------------------------------------------------------------- safe_extract


def _tar(path, members: list[tuple[str, bytes | None, str | None, bytes]]) -> None:
    """members: (name, data, linkname, type) with type tarfile.REGTYPE/SYMTYPE/LNKTYPE."""
    with tarfile.open(path, "w:gz") as tf:
        for name, data, link, kind in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if link is not None:
                info.linkname = link
            info.size = len(data or b"")
            tf.addfile(info, io.BytesIO(data or b""))


def _zip(path, names: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in names.items():
            zf.writestr(zipfile.ZipInfo(name), data)


def _leftovers(parent) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".extract-" in p.name)


def test_extracts_good_tar_into_new_target(tmp_path):
    arc = tmp_path / "good.tar.gz"
    _tar(arc, [("d/a.txt", b"A", None, tarfile.REGTYPE), ("b.txt", b"BB", None, tarfile.REGTYPE),
               ("d/link", None, "a.txt", tarfile.SYMTYPE)])
    target = tmp_path / "out"
    assert safe_extract(arc, target) == target
    assert (target / "d" / "a.txt").read_bytes() == b"A"
    assert (target / "b.txt").read_bytes() == b"BB"
    assert os.readlink(target / "d" / "link") == "a.txt"
    assert _leftovers(tmp_path) == []


def test_extracts_good_zip_into_existing_target(tmp_path):
    arc = tmp_path / "good.zip"
    _zip(arc, {"trainA/1.jpg": b"one", "trainB/2.jpg": b"two"})
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    safe_extract(arc, target)
    assert (target / "trainA" / "1.jpg").read_bytes() == b"one"
    assert (target / "trainB" / "2.jpg").read_bytes() == b"two"
    assert (target / "keep.txt").read_text() == "mine"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "member, why",
    [
        (("../evil.txt", b"x", None, tarfile.REGTYPE), "outside the target"),
        (("/abs/evil.txt", b"x", None, tarfile.REGTYPE), "absolute path"),
        (("ok/../../evil.txt", b"x", None, tarfile.REGTYPE), "outside the target"),
        (("link", None, "../../etc", tarfile.SYMTYPE), "links outside"),
        (("link", None, "/etc/passwd", tarfile.SYMTYPE), "absolute path"),
        (("hard", None, "../evil.txt", tarfile.LNKTYPE), "links outside"),
    ],
)
def test_tar_refuses_escaping_members(tmp_path, member, why):
    arc = tmp_path / "bad.tar.gz"
    _tar(arc, [("fine.txt", b"ok", None, tarfile.REGTYPE), member])
    target = tmp_path / "work" / "out"
    with pytest.raises(UnsafeArchiveError, match=why) as e:
        safe_extract(arc, target)
    assert repr(member[0]) in str(e.value)
    assert not target.exists() and not (tmp_path / "evil.txt").exists()
    assert _leftovers(tmp_path / "work") == []  # nothing half-written


def test_tar_refuses_writing_through_a_symlink(tmp_path):
    arc = tmp_path / "bad.tar"
    _tar(arc, [("sub", None, "inner", tarfile.SYMTYPE), ("sub/x.txt", b"x", None, tarfile.REGTYPE)])
    with pytest.raises(UnsafeArchiveError, match="through a symlink"):
        safe_extract(arc, tmp_path / "out")


@pytest.mark.parametrize("name, why", [("../evil.txt", "outside"), ("/evil.txt", "absolute")])
def test_zip_refuses_escaping_members(tmp_path, name, why):
    arc = tmp_path / "bad.zip"
    _zip(arc, {"fine.txt": b"ok", name: b"x"})
    target = tmp_path / "out"
    with pytest.raises(UnsafeArchiveError, match=why):
        safe_extract(arc, target)
    assert not target.exists() and not (tmp_path / "evil.txt").exists()
    assert _leftovers(tmp_path) == []


def test_not_an_archive(tmp_path):
    arc = tmp_path / "page.zip"
    arc.write_text("<html>quota exceeded</html>")
    with pytest.raises(ValueError, match="neither a tar nor a zip"):
        safe_extract(arc, tmp_path / "out")
    assert not (tmp_path / "out").exists()
