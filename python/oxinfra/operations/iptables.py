"""Firewall chains and rules with ``iptables`` and ``ip6tables`` (pyinfra's ``iptables``
module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation


@builtin_operation("iptables.chain")
def chain(
    chain: str,
    present=True,
    table="filter",
    policy: str | None = None,
    version=4,
):
    """
    Create, delete or set the policy of an iptables chain.

    + chain: the chain's name
    + present: whether the chain should exist
    + table: the table the chain is in
    + policy: the default policy the chain should have
    + version: ``4`` for ``iptables``, ``6`` for ``ip6tables``

    Policy:
        Only the built-in chains (``INPUT``, ``FORWARD``, ``OUTPUT``, ...) have a
        policy; user-defined chains cannot be given one.

    **Example:**

    .. code:: python

        iptables.chain(
            name="Drop forwarded traffic unless a rule allows it",
            chain="FORWARD",
            policy="DROP",
        )
    """
    return {"chain": chain, "present": present, "table": table, "policy": policy, "version": version}


@builtin_operation("iptables.rule")
def rule(
    chain: str,
    jump: str,
    present: bool = True,
    table: str = "filter",
    append: bool = True,
    version: int = 4,
    protocol: str | None = None,
    not_protocol: str | None = None,
    source: str | None = None,
    not_source: str | None = None,
    destination: str | None = None,
    not_destination: str | None = None,
    in_interface: str | None = None,
    not_in_interface: str | None = None,
    out_interface: str | None = None,
    not_out_interface: str | None = None,
    to_destination: str | None = None,
    to_source: str | None = None,
    to_ports: int | str | None = None,
    log_prefix: str | None = None,
    destination_port: int | None = None,
    source_port: int | None = None,
    extras: str = "",
):
    """
    Add or delete one iptables rule.

    + chain: the chain the rule is in
    + jump: the rule's target (``ACCEPT``, ``DROP``, ``DNAT``, another chain, ...)
    + present: whether the rule should exist
    + table: the table the rule is in
    + append: add a missing rule at the end of the chain; ``False`` inserts it first
    + version: ``4`` for ``iptables``, ``6`` for ``ip6tables``

    Matching:

    + protocol/not_protocol: match (or exclude) a protocol such as ``tcp`` or ``udp``
    + source/not_source: match (or exclude) source addresses or networks
    + destination/not_destination: match (or exclude) destination addresses or networks
    + in_interface/not_in_interface: match (or exclude) the incoming interface
    + out_interface/not_out_interface: match (or exclude) the outgoing interface

    Targets:

    + to_destination: where a ``DNAT`` rule sends packets (``nat`` table)
    + to_source: the address a ``SNAT`` rule rewrites the source to (``nat`` table)
    + to_ports: the port(s) a ``REDIRECT`` rule sends packets to (``nat`` table)
    + log_prefix: the prefix of the kernel messages of a ``LOG`` rule

    Extensions:

    + extras: further extension arguments, written as on the command line
      (``--limit 5/min``)
    + destination_port: shortcut for ``--dport``; needs ``protocol``
    + source_port: shortcut for ``--sport``; needs ``protocol``

    The rule is looked for in ``iptables-save``'s output, so arguments must be written
    as it prints them for a present rule to be found (addresses without a prefix length
    are compared as ``/32``).

    **Examples:**

    .. code:: python

        iptables.rule(
            name="Accept HTTPS",
            chain="INPUT",
            jump="ACCEPT",
            protocol="tcp",
            destination_port=443,
        )

        iptables.rule(
            name="Send port 80 of the public interface to the local proxy",
            chain="PREROUTING",
            jump="REDIRECT",
            table="nat",
            protocol="tcp",
            in_interface="eth0",
            destination_port=80,
            to_ports=3128,
        )
    """
    return {
        "chain": chain,
        "jump": jump,
        "present": present,
        "table": table,
        "append": append,
        "version": version,
        "protocol": protocol,
        "not_protocol": not_protocol,
        "source": source,
        "not_source": not_source,
        "destination": destination,
        "not_destination": not_destination,
        "in_interface": in_interface,
        "not_in_interface": not_in_interface,
        "out_interface": out_interface,
        "not_out_interface": not_out_interface,
        "to_destination": to_destination,
        "to_source": to_source,
        "to_ports": to_ports,
        "log_prefix": log_prefix,
        "destination_port": destination_port,
        "source_port": source_port,
        "extras": extras,
    }
