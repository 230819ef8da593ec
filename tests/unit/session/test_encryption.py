"""End-to-end encryption options: the rules, the secret key, and the translation into the rtc SDK's."""

from __future__ import annotations

import pytest
from livekit import rtc
from livekit.rtc import e2ee as rtc_e2ee

from agent_tui.session import EncryptionOptions, EncryptionOptionsError, KeyDerivation, SessionOptions
from agent_tui.session.encryption import (
    DEFAULT_FAILURE_TOLERANCE,
    DEFAULT_KEY_RING_SIZE,
    DEFAULT_RATCHET_SALT,
    DEFAULT_RATCHET_WINDOW_SIZE,
)

KEY = b"correct horse battery staple"


def test_the_defaults_are_the_sdks() -> None:
    assert DEFAULT_RATCHET_SALT == rtc_e2ee.DEFAULT_RATCHET_SALT
    assert DEFAULT_KEY_RING_SIZE == rtc_e2ee.DEFAULT_KEY_RING_SIZE


def test_no_ratcheting_on_failure_so_a_wrong_key_is_reported() -> None:
    # The SDK's 16 ratchets the shared key on every undecryptable frame (see the constant's comment).
    assert rtc_e2ee.DEFAULT_RATCHET_WINDOW_SIZE == 16
    assert DEFAULT_RATCHET_WINDOW_SIZE == 0
    assert EncryptionOptions(shared_key=KEY).to_rtc().key_provider_options.ratchet_window_size == 0


def test_the_failure_tolerance_is_js_s_so_a_wrong_key_is_reported() -> None:
    # The SDK's -1 never reports a decryption failure (see the constant's comment); JS's is 10.
    assert rtc_e2ee.DEFAULT_FAILURE_TOLERANCE == -1
    assert DEFAULT_FAILURE_TOLERANCE == 10
    assert EncryptionOptions(shared_key=KEY).to_rtc().key_provider_options.failure_tolerance == 10


def test_the_key_never_shows_in_repr_of_the_options_or_the_session_options() -> None:
    options = EncryptionOptions(shared_key=KEY)
    assert "horse" not in repr(options)
    assert "horse" not in repr(SessionOptions(encryption=options))
    assert "key_ring_size=16" in repr(options)


def test_no_encryption_by_default() -> None:
    assert SessionOptions().encryption is None


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"shared_key": b""}, "key is empty"),
        ({"ratchet_salt": b""}, "salt is empty"),
        ({"ratchet_window_size": -1}, "ratchet window size must be 0 or more, not -1"),
        ({"failure_tolerance": -2}, "failure tolerance must be -1"),
        ({"key_ring_size": 0}, "key ring size must be 1 to 256, not 0"),
        ({"key_ring_size": 257}, "key ring size must be 1 to 256, not 257"),
    ],
)
def test_bad_options_are_refused_in_one_line_without_the_key(changes: dict[str, object], words: str) -> None:
    arguments: dict[str, object] = {"shared_key": KEY, **changes}
    with pytest.raises(EncryptionOptionsError, match=words) as caught:
        EncryptionOptions(**arguments)  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)
    assert "horse" not in str(caught.value)


def test_the_edges_of_the_ranges_are_allowed() -> None:
    EncryptionOptions(shared_key=b"k", ratchet_window_size=0, failure_tolerance=-1, key_ring_size=1)
    EncryptionOptions(shared_key=b"k", key_ring_size=256, failure_tolerance=0)


def test_to_rtc_carries_every_option_with_gcm() -> None:
    options = EncryptionOptions(
        shared_key=KEY,
        ratchet_salt=b"salt",
        ratchet_window_size=4,
        failure_tolerance=3,
        key_ring_size=8,
        key_derivation=KeyDerivation.HKDF,
    )
    converted = options.to_rtc()
    assert isinstance(converted, rtc.E2EEOptions)
    assert converted.encryption_type == rtc.EncryptionType.GCM
    provider = converted.key_provider_options
    assert provider.shared_key == KEY
    assert provider.ratchet_salt == b"salt"
    assert (provider.ratchet_window_size, provider.failure_tolerance, provider.key_ring_size) == (4, 3, 8)
    assert provider.key_derivation_function == rtc.KeyDerivationFunction.HKDF


def test_pbkdf2_is_the_default_derivation_as_in_the_sdk() -> None:
    provider = EncryptionOptions(shared_key=KEY).to_rtc().key_provider_options
    assert provider.key_derivation_function == rtc.KeyProviderOptions().key_derivation_function
    assert provider.key_derivation_function == rtc.KeyDerivationFunction.PBKDF2
