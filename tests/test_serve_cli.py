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
