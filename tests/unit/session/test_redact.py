from __future__ import annotations

from livekit import api

from agent_tui.session.redaction import redact


def test_jwt_bearer_query_and_named_secrets_are_removed() -> None:
    secret = "a-secret-that-is-long-enough-for-livekit-0123"
    token = api.AccessToken("devkey", secret).with_identity("u").to_jwt()
    text = f"401 for ws://h/rtc?access_token={token} Authorization: Bearer {token} with key s3cr3t-value"
    out = redact(text, "s3cr3t-value")
    assert token not in out
    assert "s3cr3t-value" not in out
    assert "401 for ws://h/rtc?access_token=" in out


def test_plain_text_is_untouched() -> None:
    text = "Could not connect to ws://127.0.0.1:7880 (connection refused)"
    assert redact(text) == text


def test_json_and_query_keys_are_removed() -> None:
    out = redact('{"api_key": "APIabc123", "participant_token": "tok-value"} ?api_secret=zzz&x=1')
    assert "APIabc123" not in out and "tok-value" not in out and "zzz" not in out
    assert "x=1" in out


def test_a_long_path_is_kept_and_a_key_with_slashes_is_not() -> None:
    path = "/tmp/pytest-of-root/pytest-12/test_a_log_file_that_cannot_b0/a-file/agent"
    assert redact(f"cannot open the log file {path}.log (File exists)") == (
        f"cannot open the log file {path}.log (File exists)"
    )
    relative = "recordings/customer_support_agent/evening_session_transcripts/today"
    assert redact(relative) == relative
    # base64 keys: with '+' or padding, or with random-looking pieces between the slashes
    for key in (
        "q1W2e3R4t5Y6u7I8o9P0aSdFgHjKlZxCvBnM/a1S2d3F4g5H6",
        "abcdefghij/klmnopqrstuvwxyzabcdefghij+klmnopqrstu",
        "abcdefghij/klmnopqrstuvwxyzabcdefghijklmnopqrstuv==",
        "/Xk29fLq0ZpW7rT4mNcV8bHs1yGd6uJe3aQo5iKl/FxP2tR9wY",
    ):
        scrubbed = redact(f"secret {key} here")
        assert scrubbed in ("secret … here", "secret /… here"), key
