"""GPG keys and keyring files (pyinfra's ``gpg`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain


@builtin_operation("gpg.key")
def key(
    src: str | None = None,
    dest: str | None = None,
    keyserver: str | None = None,
    keyid: str | list[str] | None = None,
    dearmor: bool = True,
    mode: str = "0644",
    present: bool = True,
    working_dirs: list[str] | None = None,
):
    """
    Install GPG keys into a keyring file, or remove keyring files or keys.

    + src: a key file on the host, or an ``http(s)`` URL to fetch it from (armored
      ``.asc`` or binary ``.gpg``)
    + dest: the keyring file; needed to install, optional to remove
    + keyserver: a keyserver to receive the keys named by ``keyid`` from
    + keyid: one key ID or a list of them: what to receive from ``keyserver``, what
      must already be in ``dest`` for nothing to be done, or what to remove
    + dearmor: convert an armored key to a binary keyring
    + mode: the keyring file's permissions
    + present: whether the keys should be there; ``False`` removes them
    + working_dirs: the folders whose keyrings are searched when removing ``keyid``
      without ``dest``

    Installing:
        A ``dest`` that already exists (or, with ``keyid``, already holds every key
        named) is left as it is, apart from its mode. Keys from a keyserver are
        received into a temporary GPG home and exported to ``dest`` in binary form.

    Removing:
        ``dest`` alone deletes the keyring file. With ``keyid`` only the matching keys
        go (short IDs, long IDs and fingerprints all match), from ``dest`` or from every
        keyring in ``working_dirs``, and a keyring left without keys is deleted. An
        armored keyring cannot be edited: it is deleted when every key in it matches,
        and holding other keys as well is an error.

    **Examples:**

    .. code:: python

        gpg.key(
            name="Trust the vendor's signing key",
            src="https://packages.example.com/signing-key.asc",
            dest="/etc/apt/keyrings/example.gpg",
        )

        gpg.key(
            name="Receive two release keys",
            keyserver="hkps://keys.openpgp.org",
            keyid=["0x1234ABCD", "0x5678EF01"],
            dest="/usr/share/keyrings/releases.gpg",
        )

        gpg.key(
            name="Drop a revoked key from every APT keyring",
            keyid="0xDEADBEEF",
            present=False,
            working_dirs=["/etc/apt/keyrings", "/usr/share/keyrings"],
        )
    """
    return {
        "src": src,
        "dest": dest,
        "keyserver": keyserver,
        "keyid": to_plain(keyid),
        "dearmor": dearmor,
        "mode": mode,
        "present": present,
        "working_dirs": to_plain(working_dirs),
    }


@builtin_operation("gpg.dearmor")
def dearmor(src: str, dest: str, mode: str = "0644"):
    """
    Write the binary form of an ASCII-armored key.

    + src: the armored key file on the host
    + dest: the binary key file to write (its folder is made when missing)
    + mode: the written file's permissions

    The conversion runs every time.

    **Example:**

    .. code:: python

        gpg.dearmor(
            name="Make a binary keyring of the downloaded key",
            src="/tmp/vendor.asc",
            dest="/etc/apt/keyrings/vendor.gpg",
        )
    """
    return {"src": src, "dest": dest, "mode": mode}
