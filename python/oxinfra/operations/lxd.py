"""LXD containers (pyinfra's ``lxd`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain


@builtin_operation("lxd.container")
def container(
    id: str,
    present=True,
    image="ubuntu:16.04",
):
    """
    Launch or delete an LXD container.

    + id: the container's name
    + present: whether the container should exist; a running container is stopped
      before it is deleted
    + image: the image a new container is launched from

    Only the name is compared: an existing container launched from another image is
    left as it is.

    **Example:**

    .. code:: python

        lxd.container(
            name="Launch the build container",
            id="builder",
            image="ubuntu:24.04",
        )
    """
    return {"id": to_plain(id), "present": present, "image": to_plain(image)}
