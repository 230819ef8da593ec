from __future__ import annotations

from livekit import api

from agent_tui.session.tokens.excerpt import excerpt


def test_one_printable_line() -> None:
    assert excerpt("  line one\n\tline two\r\n") == "line one line two"
    assert excerpt("bell\x07 and \x1b[31mred") == "bell? and ?[31mred"


def test_cut_to_the_limit_with_an_ellipsis() -> None:
    assert excerpt("word " * 100, limit=20) == "word word word word…"
    assert excerpt("short", limit=20) == "short"


def test_known_secrets_and_tokens_are_scrubbed_before_cutting() -> None:
    token = (
        api.AccessToken("devkey", "a-secret-that-is-long-enough-for-livekit-0123").with_identity("u").to_jwt()
    )
    text = f"key=hunter2-key failed; token {token}"
    out = excerpt(text, secrets=["hunter2-key"], limit=40)
    assert "hunter2" not in out
    assert token[:20] not in out
    assert out == "key=… failed; token …"
