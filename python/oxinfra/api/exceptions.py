"""pyinfra's exception hierarchy, under the same names, so `except OperationError`
in existing deploys catches what oxinfra raises."""

from __future__ import annotations


class PyinfraError(Exception):
    """The base of every error oxinfra raises on purpose."""


OxinfraError = PyinfraError


class NoConnectorError(PyinfraError, ValueError):
    """A host name names a connector that does not exist."""


class NoGroupError(PyinfraError, KeyError):
    """An inventory has no group of that name."""


class NoHostError(PyinfraError, KeyError):
    """An inventory has no host of that name."""


class ConnectError(PyinfraError):
    """A host could not be connected to."""


class InventoryError(PyinfraError):
    """An inventory is malformed."""


class ConnectorDataTypeError(PyinfraError, TypeError):
    """Connector data of a host has the wrong type."""


class DeployError(PyinfraError):
    """A deploy is malformed or used wrongly."""


class OperationError(PyinfraError):
    """An operation cannot reach the wanted state."""


class OperationTypeError(OperationError, TypeError):
    """An operation argument has the wrong type."""


class OperationValueError(OperationError, ValueError):
    """An operation argument has a wrong value."""


class NestedOperationError(OperationError):
    """An operation called inside `python.call` failed."""


class ArgumentTypeError(PyinfraError, TypeError):
    """A global argument has the wrong type."""


class FactError(PyinfraError):
    """A fact could not be read."""


class FactTypeError(FactError, TypeError):
    """A fact was given an argument of the wrong type."""


class FactValueError(FactError, ValueError):
    """A fact was given a wrong value."""


class FactProcessError(FactError, RuntimeError):
    """A fact's output could not be understood."""


class FactNotCollected(FactError):
    """A fact was asked for before it was read."""


class FactPreconditionError(FactError):
    """A fact's precondition does not hold on the host."""


class MissingCommandError(FactError):
    """A fact needs a command the host lacks."""


class PyinfraUnexpectedError(PyinfraError):
    """Something went wrong that should not."""


__all__ = [name for name, value in globals().items() if isinstance(value, type) and issubclass(value, Exception)]
