"""Snap packages (pyinfra's ``snap`` module, https://snapcraft.io/).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain


@builtin_operation("snap.package")
def package(
    packages: str | list[str] | None = None,
    channel="latest/stable",
    classic=False,
    present=True,
):
    """
    Install or remove snaps, and keep installed ones on a channel.

    + packages: one snap name or a list of them; nothing is done without any
    + channel: the ``track/risk`` channel the snaps should follow
    + classic: install with classic confinement (``--classic``)
    + present: whether the snaps should be installed

    ``classic``:
        A classic snap runs outside the sandbox and sees the whole system, like a
        traditional package; snaps published that way refuse to install without it.

    An installed snap that follows another channel is refreshed onto ``channel``.

    **Examples:**

    .. code:: python

        snap.package(
            name="Install Hugo",
            packages="hugo",
        )

        snap.package(
            name="Install kubectl and helm",
            packages=["kubectl", "helm"],
            classic=True,
        )

        snap.package(
            name="Keep microk8s on 1.30",
            packages=["microk8s"],
            channel="1.30/stable",
        )

        snap.package(
            name="Remove the Firefox snap",
            packages="firefox",
            present=False,
        )
    """
    return {"packages": to_plain(packages), "channel": to_plain(channel), "classic": classic, "present": present}
