"""Puppet runs (pyinfra's ``puppet`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain


@builtin_operation("puppet.agent")
def agent(server: str | None = None, port: int | None = None):
    """
    Run the Puppet agent once (``puppet agent -t``), on every deploy.

    + server: the Puppet server to use instead of the agent's configured one
    + port: the Puppet server's port, instead of the configured one

    Note:
        ``puppet`` is often only on the ``PATH`` of a login shell; run the operation with
        ``_use_sudo_login=True`` or ``_use_su_login=True`` when it is not found.

    **Example:**

    .. code:: python

        # The agent exits with 2 when it applied changes.
        puppet.agent(
            name="Apply the catalogue",
            server="puppet.internal",
            _success_exit_codes=[0, 2],
        )
    """
    return {"server": to_plain(server), "port": to_plain(port)}
