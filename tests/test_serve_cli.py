"""`handouts serve` refuses to listen beyond this machine without a flag and a token (quick: no server starts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handouts.serve.security import Settings, host_name, is_loopback, origin_ok
from tests.conftest import REPO


def test_another_address_needs_allow_remote(run) -> None:  # type: ignore[no-untyped-def]
    result = run("-w", REPO, "serve", "--host", "0.0.0.0")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        "error: --host 0.0.0.0 lets other computers reach the page; add --allow-remote if you mean it "
        "(and an access token), or run it behind a reverse proxy (see README: Front desk)")


def test_allow_remote_needs_a_long_enough_token(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("HANDOUTS_SERVE_TOKEN", raising=False)
    expected = ("error: --allow-remote needs an access token of at least 16 characters: "
                "HANDOUTS_SERVE_TOKEN or --token-file")
    assert run("-w", REPO, "serve", "--host", "0.0.0.0", "--allow-remote").output.splitlines()[-1] == expected
    short = tmp_path / "token"
    short.write_text("short\n")
    result = run("-w", REPO, "serve", "--host", "10.0.0.5", "--allow-remote", "--token-file", short)
    assert result.output.splitlines()[-1] == expected
    missing = run("-w", REPO, "serve", "--token-file", tmp_path / "none")
    assert missing.output.splitlines()[-1] == f"error: --token-file {tmp_path / 'none'}: No such file or directory"


def test_a_brand_not_there_is_one_line_before_any_worker_starts(run, write_workspace) -> None:  # type: ignore[no-untyped-def]
    from tests.test_brands import BRANDS

    root = write_workspace(BRANDS)
    result = run("-w", root, "serve", "--brand", "north", "--brand", "sout-side")
    assert (result.exit_code, result.output) == (
        2, "error: --brand sout-side: no file brands/sout-side.yaml (brands: north, south-side); did you mean "
           "south-side?\n")
    result = run("-w", REPO, "serve", "--brand", "all")
    assert (result.exit_code, result.output) == (
        2, "error: --brand all: no brand files in brands/ (add brands/<name>.yaml)\n")


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True),
                                                ("::1", True), ("[::1]", True), ("0.0.0.0", False),
                                                ("192.168.1.10", False), ("example.org", False)])
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(("header", "name"), [("127.0.0.1:8765", "127.0.0.1"), ("LOCALHOST", "localhost"),
                                              ("[::1]:80", "::1"), ("handouts.clinic.example", "handouts.clinic.example")])
def test_host_name(header: str, name: str) -> None:
    assert host_name(header) == name


def test_allowed_hosts_and_origins_behind_a_proxy() -> None:
    settings = Settings(public_url="https://handouts.clinic.example/", allowed_hosts=("handouts.clinic.example",))
    assert settings.hosts() == {"handouts.clinic.example"}
    assert Settings().hosts() == {"127.0.0.1", "localhost", "::1"}

    def scope(origin: str, host: str = "127.0.0.1:8765") -> dict[str, object]:
        return {"headers": [(b"host", host.encode()), (b"origin", origin.encode())]}

    assert origin_ok(scope("https://handouts.clinic.example"), settings)
    assert not origin_ok(scope("https://evil.example"), settings)
    assert origin_ok(scope("http://127.0.0.1:8765"), Settings())
    assert not origin_ok(scope("http://127.0.0.1:9999"), Settings())
    assert not origin_ok(scope("null"), Settings())


def test_frame_ancestors_are_origins(run) -> None:  # type: ignore[no-untyped-def]
    result = run("-w", REPO, "serve", "--frame-ancestor", "https://ehr.example; script-src *")
    assert result.output.splitlines()[-1] == (
        "error: --frame-ancestor https://ehr.example; script-src *: give an origin such as "
        "https://ehr.clinic.example, or 'self'")


@pytest.mark.parametrize(("method", "path", "open_"), [("GET", "/infobutton", True), ("HEAD", "/infobutton", True),
                                                       ("GET", "/pdf", True), ("POST", "/pdf", False),
                                                       ("POST", "/infobutton", False), ("GET", "/pdfx", False),
                                                       ("GET", "/infobutton/x", False), ("GET", "/preview", False),
                                                       ("GET", "/handout", False), ("GET", "/", False)])
def test_the_open_infobutton_setting_opens_two_gets_only(method: str, path: str, open_: bool) -> None:
    from handouts.serve.security import Guard

    scope = {"type": "http", "method": method, "path": path}
    assert Guard(lambda *a: None, Settings(token="t" * 16, open_infobutton=True))._open_infobutton(scope) is open_  # type: ignore[arg-type,return-value]
    assert Guard(lambda *a: None, Settings(token="t" * 16))._open_infobutton(scope) is False  # type: ignore[arg-type,return-value]


def test_the_access_log_never_shows_a_query() -> None:
    import logging

    from handouts.serve import quiet_access_log

    def line(path: str) -> str:
        record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                                   ("127.0.0.1:5000", "GET", path, "1.1", 200), None)
        assert quiet_access_log(record) is True
        return record.getMessage()

    assert line("/infobutton?mainSearchCriteria.v.c=M54.31&age.v.v=83") == (
        '127.0.0.1:5000 - "GET /infobutton?... HTTP/1.1" 200')
    # a search at the desk is typed for the patient in front of it: not kept either
    assert line("/?q=M54.31") == '127.0.0.1:5000 - "GET /?... HTTP/1.1" 200'
    assert line("/pdf?topic=sciatica&kind=overview") == '127.0.0.1:5000 - "GET /pdf?... HTTP/1.1" 200'
    assert line("/health") == '127.0.0.1:5000 - "GET /health HTTP/1.1" 200'
