"""agent-tui's settings: one typed model, filled from four layers.

Precedence, highest first: command-line options > environment (``AGENT_TUI_*``, and LiveKit's own
``LIVEKIT_URL`` / ``LIVEKIT_API_KEY`` / ``LIVEKIT_API_SECRET`` / ``LIVEKIT_TOKEN``) > the TOML config
file (``--config``, else ``AGENT_TUI_CONFIG``, else ``config.toml`` in the platform's user config
directory) > defaults.

pydantic-settings does the layering and the type checking; this module adds what it leaves to us: a
config file that is read with errors naming the file and the key (a typo in a key is an error, not a
silently ignored line), errors that say which layer a bad value came from, and a warning when a file
that holds a secret can be read by other users. Every problem becomes one :class:`ConfigError` line,
exit code 2, and never echoes a value (it might be a secret).

The TOML file uses the setting names at its top level (``agent_timeout = 30``). Tables such as
``attributes`` are TOML tables; in the environment they are JSON objects
(``AGENT_TUI_ATTRIBUTES='{"role": "tester"}'``) or one variable per key (``AGENT_TUI_ATTRIBUTES__ROLE``).
Tables merge key by key across the layers (``--attribute`` adds to the file's ``[attributes]``; the
higher layer wins for a key both set).
Groups of settings (``[app]`` for the terminal app, ``[audio]``, ``[video]``) are nested models: TOML
tables in the file, ``AGENT_TUI_TUI__THEME``-style variables in the environment.
"""

from __future__ import annotations

import difflib
import os
import stat
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from agent_tui import paths
from agent_tui.app.settings import AppSettings
from agent_tui.audio.settings import AudioSettings
from agent_tui.encryption_settings import EncryptionSettings
from agent_tui.session import SessionLibraryError
from agent_tui.video.settings import VideoSettings

ENV_PREFIX = "AGENT_TUI_"
#: LiveKit's own variables, read as a fallback: every LiveKit quick start sets them.
LIVEKIT_ENV_ALIASES: dict[str, str] = {
    "url": "LIVEKIT_URL",
    "api_key": "LIVEKIT_API_KEY",
    "api_secret": "LIVEKIT_API_SECRET",
    # A token minted elsewhere: the environment keeps it out of argv, where every local user can read it.
    "token": "LIVEKIT_TOKEN",
}
#: Settings holding credentials: they are never printed, and a readable file holding one is warned about.
SECRET_SETTINGS = frozenset({"api_secret", "token", "token_endpoint_headers"})
#: The same, inside groups: (group, setting).
SECRET_GROUP_SETTINGS = frozenset({("e2ee", "key")})
#: Settings without a command-line option: a flag would put the secret in the shell history and ``ps``.
FILE_OR_ENV_ONLY = frozenset({"api_key", "api_secret", "token_endpoint_method", "token_endpoint_headers"})

LogLevel = Literal["debug", "info", "warning", "error", "critical"]
ExitWhen = Literal["idle", "agent-left", "never"]
#: How a headless run ends, as applied: an ``ExitWhen`` the user chose, or ``over`` (the default of a
#: listen-only run): it goes on until the conversation is over — the agent left (6), never became
#: ready (5) or the connection was lost (4) — or the user stops it.
RunEnd = Literal["idle", "agent-left", "never", "over"]
OutputFormat = Literal["text", "json"]
PositiveSeconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class ConfigError(SessionLibraryError):
    """A setting, an option or the config file is wrong (exit code 2); the message names which."""


def _livekit_alias(name: str) -> AliasChoices:
    # AGENT_TUI_* first: the alias order is the lookup order, so our own variable wins over LiveKit's.
    return AliasChoices(f"{ENV_PREFIX.lower()}{name}", LIVEKIT_ENV_ALIASES[name].lower())


def _optional_text(value: object) -> object:
    """Blank strings mean "not set": an empty ``AGENT_TUI_ROOM=`` or ``room = ""`` must not name a room."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


class Settings(BaseSettings):
    """Everything agent-tui can be told; ``config.example.toml`` documents each field."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_ignore_empty=True,
        case_sensitive=False,
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        frozen=True,
    )

    # -- where and how to get a token ------------------------------------------------------------------
    url: str | None = Field(default=None, validation_alias=_livekit_alias("url"))
    api_key: str | None = Field(default=None, validation_alias=_livekit_alias("api_key"))
    api_secret: SecretStr | None = Field(default=None, validation_alias=_livekit_alias("api_secret"))
    token: SecretStr | None = Field(default=None, validation_alias=_livekit_alias("token"))
    token_endpoint: str | None = None
    token_endpoint_method: str = "POST"
    token_endpoint_headers: dict[str, str] = Field(default_factory=dict)
    sandbox_id: str | None = None

    # -- who and what to talk to -----------------------------------------------------------------------
    agent: str | None = None
    agent_metadata: str | None = None
    room: str | None = None
    identity: str | None = None
    name: str | None = None
    participant_metadata: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    agent_timeout: PositiveSeconds = 20.0

    # -- front end and output --------------------------------------------------------------------------
    ui: bool = True
    output: OutputFormat = "text"
    transcript: Path | None = None
    metrics: Path | None = None
    record_scenario: Path | None = None
    exit_when: ExitWhen | None = None
    answer_timeout: PositiveSeconds = 60.0

    # -- logging ---------------------------------------------------------------------------------------
    log_file: Path | None = None
    log_level: LogLevel = "warning"

    # -- groups ----------------------------------------------------------------------------------------
    app: AppSettings = Field(default_factory=AppSettings)
    audio: AudioSettings = Field(default_factory=AudioSettings)
    video: VideoSettings = Field(default_factory=VideoSettings)
    e2ee: EncryptionSettings = Field(default_factory=EncryptionSettings)

    @field_validator(
        "url",
        "api_key",
        "api_secret",
        "token",
        "token_endpoint",
        "sandbox_id",
        "room",
        "identity",
        "name",
        "transcript",
        "metrics",
        "record_scenario",
        "log_file",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return _optional_text(value)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None:
            _check_url_scheme(value, ("ws", "wss", "http", "https"), example="wss://my-project.livekit.cloud")
        return value.strip() if value is not None else None

    @field_validator("token_endpoint")
    @classmethod
    def _check_token_endpoint(cls, value: str | None) -> str | None:
        if value is not None:
            _check_url_scheme(value, ("http", "https"), example="https://example.com/api/token")
        return value.strip() if value is not None else None

    @field_validator("token_endpoint_method", mode="before")
    @classmethod
    def _upper_method(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("token_endpoint_method")
    @classmethod
    def _check_method(cls, value: str) -> str:
        if value not in ("GET", "POST"):
            raise ValueError("must be POST or GET")
        return value

    @field_validator("log_level", "exit_when", "output", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("transcript", "record_scenario", "log_file")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # No dotenv and no secrets directory: a .env in whatever directory the user happens to be in
        # should not silently change which server we talk to.
        return init_settings, env_settings, _ConfigFileSource(settings_cls, _FILE_VALUES.get())

    # -- derived ---------------------------------------------------------------------------------------
    @property
    def headless(self) -> bool:
        """Whether to run without the terminal UI (``--no-ui``)."""
        return not self.ui

    def effective_exit_when(self, *, has_sends: bool) -> RunEnd:
        """``exit_when`` as the headless runner applies it: ``idle`` after a ``--send`` script or an
        ``--input-wav`` (both are questions to be answered), else ``over``: a listen-only run is ended
        by the user, or by the end of the conversation (only an explicit ``never`` outlives that)."""
        if self.exit_when is not None:
            return self.exit_when
        return "idle" if has_sends or self.audio.input_wav is not None else "over"

    def secret_values(self) -> list[str]:
        """Every credential held, for scrubbing from logs and messages."""
        values = [secret.get_secret_value() for secret in (self.api_secret, self.token) if secret is not None]
        values.extend(self.token_endpoint_headers.values())
        if self.e2ee.key is not None:
            values.append(self.e2ee.key.get_secret_value())
        return [value for value in values if value]


def _check_url_scheme(value: str, schemes: tuple[str, ...], *, example: str) -> None:
    try:
        parts = urlsplit(value.strip())
        scheme, host = parts.scheme.lower(), parts.hostname
    except ValueError:
        scheme, host = "", None
    if scheme not in schemes or not host:
        names = [f"{scheme}://" for scheme in schemes]
        listed = ", ".join(names[:-1]) + " or " + names[-1]
        raise ValueError(f"must be a URL starting with {listed} (e.g. {example})")


class _ConfigFileSource(InitSettingsSource):
    """The config file's values, read and checked by :func:`read_config_file` before validation starts."""

    def __init__(self, settings_cls: type[BaseSettings], values: Mapping[str, Any] | None) -> None:
        super().__init__(settings_cls, init_kwargs=dict(values or {}))

    def __repr__(self) -> str:
        return "_ConfigFileSource()"


#: The config file values for the Settings being built now; a context variable rather than a class
#: attribute so that concurrent loads (tests, a future reload) cannot see each other's file.
_FILE_VALUES: ContextVar[Mapping[str, Any] | None] = ContextVar("agent_tui_config_file_values", default=None)


@contextmanager
def _file_values(values: Mapping[str, Any]) -> Iterator[None]:
    token = _FILE_VALUES.set(values)
    try:
        yield
    finally:
        _FILE_VALUES.reset(token)


# -- reading the file -------------------------------------------------------------------------------------
def resolve_config_file(explicit: Path | None) -> tuple[Path, bool]:
    """The config file to read and whether it must exist (it must when the user named it)."""
    if explicit is not None:
        return explicit.expanduser(), True
    from_env = paths.config_file_from_env()
    if from_env is not None:
        return from_env, True
    return paths.default_config_file(), False


def read_config_file(
    path: Path, *, required: bool, on_warning: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """The file's top-level table, with unknown keys rejected and renamed ones read under their new
    names (``on_warning`` hears of those); {} when an optional file is absent."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        if not required:
            return {}
        raise ConfigError(
            f"The config file {path} does not exist — check the path given to --config or {paths.CONFIG_ENV}."
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"The config file {path} is a directory — pass the path of a TOML file.") from None
    except PermissionError:
        raise ConfigError(
            f"The config file {path} cannot be read (permission denied) — check its owner and mode."
        ) from None
    except OSError as error:
        raise ConfigError(f"The config file {path} cannot be read ({error.strerror or error}).") from None
    except UnicodeDecodeError:
        raise ConfigError(f"The config file {path} is not UTF-8 text — save it as UTF-8 TOML.") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"The config file {path} is not valid TOML: {error}.") from None
    data = _with_current_names(data, origin=str(path), on_warning=on_warning)
    check_config_keys(data, origin=str(path))
    return data


#: Settings that were renamed: the old name still works in a config file and an environment variable,
#: with a warning that says what to write instead.
RENAMED_SETTINGS = {"tui": "app"}


def _with_current_names(
    data: dict[str, Any], *, origin: str, on_warning: Callable[[str], None] | None
) -> dict[str, Any]:
    """``data`` with old setting names replaced by the current ones, each replacement warned about."""
    for old, new in RENAMED_SETTINGS.items():
        if old not in data:
            continue
        if new in data:
            raise ConfigError(
                f"{origin} has both [{old}] and [{new}] — [{old}] is the old name; merge it into [{new}]."
            )
        if on_warning is not None:
            on_warning(
                f"[{old}] in {origin} is now called [{new}] — rename the table (it is read as [{new}])."
            )
        data = {(new if key == old else key): value for key, value in data.items()}
    return data


def renamed_variable_warnings(environ: Mapping[str, str]) -> list[str]:
    """One warning per environment variable still using an old setting name (those are not read)."""
    warnings = []
    for old, new in RENAMED_SETTINGS.items():
        old_prefix, new_prefix = f"{ENV_PREFIX}{old.upper()}__", f"{ENV_PREFIX}{new.upper()}__"
        for name in sorted(n for n in environ if n.upper().startswith(old_prefix)):
            warnings.append(f"{name} is not read — the setting is now {new_prefix}{name[len(old_prefix) :]}.")
    return warnings


def check_config_keys(data: Mapping[Any, Any], *, origin: str) -> None:
    """Reject keys that are not settings, so a typo fails loudly instead of being ignored."""
    known = sorted(Settings.model_fields)
    for key in data:
        if not isinstance(key, str) or key not in Settings.model_fields:
            shown = key if isinstance(key, str) else repr(key)
            close = difflib.get_close_matches(shown, known, n=1) if isinstance(key, str) else []
            hint = f"did you mean {close[0]!r}?" if close else "see config.example.toml for the settings"
            raise ConfigError(f"Unknown setting {shown!r} in {origin} — {hint}")


def secret_file_warning(path: Path, data: Mapping[str, Any]) -> str | None:
    """A warning when ``path`` holds a credential and users other than its owner can read it."""
    if os.name != "posix":
        return None
    held = sorted(key for key in SECRET_SETTINGS if data.get(key))
    held.extend(
        f"{group}.{key}"
        for group, key in sorted(SECRET_GROUP_SETTINGS)
        if isinstance(data.get(group), Mapping) and data[group].get(key)
    )
    if not held:
        return None
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if not mode & (stat.S_IRGRP | stat.S_IROTH):
        return None
    return (
        f"The config file {path} holds {', '.join(held)} and can be read by other users — "
        f"run: chmod 600 {path}"
    )


# -- building the settings -----------------------------------------------------------------------------
def load_settings(
    cli: Mapping[str, Any] | None = None,
    *,
    config_file: Path | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Settings:
    """The settings for one run: ``cli`` holds only the options the user gave (setting name → value).

    Raises :class:`ConfigError` for a missing named file, unreadable or invalid TOML, an unknown key, or
    a value of the wrong type in any layer.
    """
    path, required = resolve_config_file(config_file)
    file_values = read_config_file(path, required=required, on_warning=on_warning)
    if on_warning is not None:
        warnings = renamed_variable_warnings(os.environ)
        readable = secret_file_warning(path, file_values) if file_values else None
        if readable is not None:
            warnings.append(readable)
        for warning in warnings:
            on_warning(warning)
    return build_settings(cli or {}, file_values, file_origin=str(path))


def build_settings(
    cli: Mapping[str, Any], file_values: Mapping[Any, Any], *, file_origin: str = "the config file"
) -> Settings:
    """Validate the layers into a :class:`Settings`, or raise one :class:`ConfigError` line."""
    check_config_keys(file_values, origin=file_origin)
    check_config_keys(cli, origin="the command line")
    try:
        with _file_values(file_values):
            return Settings(**cli)
    except ValidationError as error:
        raise ConfigError(_describe(error, cli, file_values, file_origin)) from None
    except SettingsError as error:
        # Raised by the environment source when a table setting is not a JSON object.
        raise ConfigError(
            f"A setting in the environment cannot be parsed ({error}) — table settings take a JSON object, "
            f'e.g. {ENV_PREFIX}ATTRIBUTES=\'{{"role": "tester"}}\'.'
        ) from None


def _field_for(loc_head: object) -> str:
    name = str(loc_head)
    for field, info in Settings.model_fields.items():
        alias = info.validation_alias
        if name == field or (isinstance(alias, AliasChoices) and name in alias.choices):
            return field
    return name


def option_for(field: str) -> str:
    """The command-line option that sets ``field`` (for messages)."""
    return {"ui": "--no-ui", "output": "--json"}.get(field, "--" + field.replace("_", "-"))


def env_names_for(field: str) -> list[str]:
    names = [f"{ENV_PREFIX}{field.upper()}"]
    if field in LIVEKIT_ENV_ALIASES:
        names.append(LIVEKIT_ENV_ALIASES[field])
    return names


def _origin(field: str, cli: Mapping[str, Any], file_values: Mapping[Any, Any], file_origin: str) -> str:
    if field in cli:
        return f"option {option_for(field)}"
    environ = {name.upper() for name in os.environ}
    for name in env_names_for(field):
        if name in environ or any(key.startswith(f"{name}__") for key in environ):
            return f"environment variable {name}"
    if field in file_values:
        return file_origin
    return "the defaults"


def _describe(
    error: ValidationError, cli: Mapping[str, Any], file_values: Mapping[Any, Any], origin: str
) -> str:
    details: list[ErrorDetails] = error.errors(include_input=False, include_url=False)
    first = details[0]
    loc = first["loc"]
    field = _field_for(loc[0]) if loc else "?"
    where = _origin(field, cli, file_values, origin)
    key = ".".join([field, *(str(part) for part in loc[1:])])
    reason = first["msg"].removeprefix("Value error, ")
    others = len(details) - 1
    more = f" (and {others} more problem{'s' if others > 1 else ''})" if others else ""
    return f"Invalid value for {key!r} in {where}: {reason}{more} — fix or remove it."
