"""The run's configuration, as pyinfra's `Config`: its keys and defaults, set by
`config.py` (`config.SUDO = True`), the CLI flags, and deploy code."""

from __future__ import annotations

import copy
from typing import Any

CONFIG_DEFAULTS: dict[str, Any] = {
    "CONNECT_TIMEOUT": 10,
    "FAIL_PERCENT": None,
    "TEMP_DIR": None,
    "DEFAULT_TEMP_DIR": "/tmp",
    "PARALLEL": 0,
    "REQUIRE_PYINFRA_VERSION": None,
    "REQUIRE_PACKAGES": None,
    "SUDO": False,
    "SUDO_USER": None,
    "PRESERVE_SUDO_ENV": False,
    "USE_SUDO_LOGIN": False,
    "SUDO_PASSWORD": None,
    "SU_USER": None,
    "USE_SU_LOGIN": False,
    "SU_SHELL": False,
    "PRESERVE_SU_ENV": False,
    "SU_PASSWORD": None,
    "DOAS": False,
    "DOAS_USER": None,
    "DZDO": False,
    "DZDO_USER": None,
    "IGNORE_ERRORS": False,
    "SHELL": "sh",
    "DIFF": False,
    "RETRY": 0,
    "RETRY_DELAY": 5,
    "INHERIT_ENV": (),
    "ENV": {},
}


class Config:
    """Configuration values; unknown keys are kept as given."""

    CONNECT_TIMEOUT: int
    FAIL_PERCENT: float | None
    TEMP_DIR: str | None
    DEFAULT_TEMP_DIR: str
    PARALLEL: int
    REQUIRE_PYINFRA_VERSION: str | None
    REQUIRE_PACKAGES: Any
    SUDO: bool
    SUDO_USER: str | None
    PRESERVE_SUDO_ENV: bool
    USE_SUDO_LOGIN: bool
    SUDO_PASSWORD: str | None
    SU_USER: str | None
    USE_SU_LOGIN: bool
    SU_SHELL: Any
    PRESERVE_SU_ENV: bool
    SU_PASSWORD: str | None
    DOAS: bool
    DOAS_USER: str | None
    DZDO: bool
    DZDO_USER: str | None
    IGNORE_ERRORS: bool
    SHELL: str | None
    DIFF: bool
    RETRY: int
    RETRY_DELAY: float
    INHERIT_ENV: Any
    ENV: dict[str, Any]

    def __init__(self, **overrides: Any) -> None:
        for key, value in CONFIG_DEFAULTS.items():
            setattr(self, key, copy.copy(value))
        for key, value in overrides.items():
            setattr(self, key, value)
        self._locked: dict[str, Any] | None = None

    def copy(self) -> Config:
        clone = Config()
        clone.__dict__.update(copy.deepcopy({key: value for key, value in self.__dict__.items() if key != "_locked"}))
        return clone

    def lock_current_state(self) -> None:
        self._locked = copy.deepcopy({key: value for key, value in self.__dict__.items() if key != "_locked"})

    def reset_locked_state(self) -> None:
        if self._locked is not None:
            self.__dict__.update(copy.deepcopy(self._locked))

    def get_current_state(self) -> list[tuple[str, Any]]:
        return [(key, value) for key, value in self.__dict__.items() if key != "_locked"]
