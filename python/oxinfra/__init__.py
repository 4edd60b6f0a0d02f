"""oxinfra: pyinfra deploys run by a Rust engine.

Deploy code imports `host`, `config`, `state`, `inventory`, `logger` and `local` from
here (or from `pyinfra`, which resolves to oxinfra inside an `oxinfra` run)."""

from __future__ import annotations

import logging

from oxinfra import local
from oxinfra.context import config, host, inventory, state

__version__ = "0.1.0"
is_cli = False
logger = logging.getLogger("oxinfra")

__all__ = ["config", "host", "inventory", "is_cli", "local", "logger", "state"]
