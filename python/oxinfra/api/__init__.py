"""The API deploy code and embedding programs use, under pyinfra's names, plus
`run`, the whole run as one awaitable call."""

from __future__ import annotations

from oxinfra._alias import install as install_pyinfra_alias
from oxinfra.api.command import (
    FileDownloadCommand,
    FileUploadCommand,
    FunctionCommand,
    HiddenValue,
    MaskString,
    QuoteString,
    RsyncCommand,
    StringCommand,
    make_formatted_string_command,
)
from oxinfra.api.config import Config
from oxinfra.api.deploy import deploy
from oxinfra.api.exceptions import (
    DeployError,
    FactError,
    FactNotCollected,
    FactPreconditionError,
    FactProcessError,
    FactTypeError,
    FactValueError,
    InventoryError,
    MissingCommandError,
    OperationError,
    OperationTypeError,
    OperationValueError,
)
from oxinfra.api.facts import FactBase, ShortFactBase
from oxinfra.api.host import Host
from oxinfra.api.inventory import Inventory
from oxinfra.api.operation import operation
from oxinfra.api.runner import load_inventory, run
from oxinfra.api.state import BaseStateCallback, State

__all__ = [
    "BaseStateCallback",
    "Config",
    "DeployError",
    "FactBase",
    "FactError",
    "FactNotCollected",
    "FactPreconditionError",
    "FactProcessError",
    "FactTypeError",
    "FactValueError",
    "FileDownloadCommand",
    "FileUploadCommand",
    "FunctionCommand",
    "HiddenValue",
    "Host",
    "Inventory",
    "InventoryError",
    "MaskString",
    "MissingCommandError",
    "OperationError",
    "OperationTypeError",
    "OperationValueError",
    "QuoteString",
    "RsyncCommand",
    "ShortFactBase",
    "State",
    "StringCommand",
    "deploy",
    "install_pyinfra_alias",
    "load_inventory",
    "make_formatted_string_command",
    "operation",
    "run",
]
