"""Git repositories and settings (pyinfra's ``git`` module): ``git config``, working copies,
worktrees and bare repositories.

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain


@builtin_operation("git.config")
def config(key: str, value: str, multi_value=False, repo: str | None = None, system=False):
    """
    Set a ``git config`` value for one repository, for the user or for the whole system.

    + key: the setting, written ``section.name``
    + value: the value the setting should have
    + multi_value: add ``value`` to the setting's values instead of replacing them
    + repo: a working copy whose own settings are changed; the user's global settings when not given
    + system: without ``repo``, change the system-wide settings rather than the user's

    The user's global settings are those of the user the operation runs as (see
    ``_sudo_user``).

    **Examples:**

    .. code:: python

        from pyinfra.operations import git
        git.config(
            name="Rebase when pulling in the app checkout",
            key="pull.rebase",
            value="true",
            repo="/srv/app",
        )

        git.config(
            name="Name on the deploy user's commits",
            key="user.name",
            value="Deploy Bot",
            _sudo=True,
            _sudo_user="deploy",
        )

        git.config(
            name="Trust the shared checkout for every user",
            key="safe.directory",
            value="/srv/shared",
            multi_value=True,
            system=True,
        )
    """
    return {"key": key, "value": value, "multi_value": multi_value, "repo": to_plain(repo), "system": system}


@builtin_operation("git.repo")
def repo(
    src: str,
    dest: str,
    branch: str | None = None,
    pull: bool = True,
    rebase: bool = False,
    user: str | None = None,
    group: str | None = None,
    ssh_keyscan: bool = False,
    update_submodules: bool = False,
    recursive_submodules: bool = False,
    depth: int | None = None,
    *,
    fetch_tags: bool = False,
):
    """
    Clone a git repository, or bring an existing working copy up to date.

    + src: the repository to clone: a URL, ``user@host:path``, or a path on the host
    + dest: the folder of the working copy (created when missing)
    + branch: the branch or tag to check out; the current one when not given
    + pull: pull new commits into an existing working copy
    + rebase: pull with ``--rebase``
    + user: owner given to the whole working copy after any change
    + group: group given to the whole working copy after any change
    + ssh_keyscan: first add the SSH host key of ``src``'s host to ``known_hosts``
    + update_submodules: initialise and update the submodules
    + recursive_submodules: with ``update_submodules``, their own submodules as well
    + depth: clone only this many latest commits
    + fetch_tags: fetch every tag before checking out ``branch``

    Existing working copies:
        The ``origin`` remote is pointed at ``src`` when it points elsewhere. The pull is
        skipped when the branch is already at the commit the remote has.

    **Example:**

    .. code:: python

        git.repo(
            name="Checkout of the web app",
            src="https://git.example.net/web/app.git",
            dest="/srv/app",
            branch="main",
        )
    """
    return {
        "src": to_plain(src),
        "dest": to_plain(dest),
        "branch": branch,
        "pull": pull,
        "rebase": rebase,
        "user": user,
        "group": group,
        "ssh_keyscan": ssh_keyscan,
        "update_submodules": update_submodules,
        "recursive_submodules": recursive_submodules,
        "depth": depth,
        "fetch_tags": fetch_tags,
    }


@builtin_operation("git.worktree")
def worktree(
    worktree: str,
    repo: str | None = None,
    detached=False,
    new_branch: str | None = None,
    commitish: str | None = None,
    pull=True,
    rebase=False,
    from_remote_branch: tuple[str, str] | None = None,
    present=True,
    assume_repo_exists=False,
    force=False,
    user: str | None = None,
    group: str | None = None,
):
    """
    Add, pull or remove a git worktree.

    + worktree: the worktree's folder
    + repo: the working copy the worktree belongs to (needed to add it)
    + detached: check out a detached ``HEAD`` rather than a branch
    + new_branch: a branch created for the worktree
    + commitish: the commit, branch or tag the worktree starts from
    + pull: pull an existing worktree that tracks a remote branch, or ``from_remote_branch``
    + rebase: pull with ``--rebase``
    + from_remote_branch: ``(remote, branch)`` to pull from
    + present: ``False`` removes the worktree
    + assume_repo_exists: do not check that ``repo`` is a working copy
    + force: add or remove the worktree with ``--force``
    + user: owner given to a new worktree and to its files inside ``repo``
    + group: group given to a new worktree and to its files inside ``repo``

    Without ``new_branch``, ``detached`` or ``commitish``, git checks out (creating it if
    needed) a branch named after the worktree's folder.

    The pull is skipped when the worktree's ``HEAD`` is already at the remote branch's
    commit.

    **Examples:**

    .. code:: python

        git.worktree(
            name="Worktree for the release branch",
            repo="/srv/app",
            worktree="/srv/app-release",
            new_branch="release",
            commitish="origin/release",
        )

        git.worktree(
            name="Worktree at a fixed commit",
            repo="/srv/app",
            worktree="/srv/app-pinned",
            commitish="4e091aa0",
            detached=True,
        )

        git.worktree(
            name="Keep a worktree on origin's main",
            repo="/srv/app",
            worktree="/srv/app-main",
            from_remote_branch=("origin", "main"),
        )

        git.worktree(
            name="Drop the release worktree",
            worktree="/srv/app-release",
            present=False,
        )
    """
    return {
        "worktree": to_plain(worktree),
        "repo": to_plain(repo),
        "detached": detached,
        "new_branch": new_branch,
        "commitish": commitish,
        "pull": pull,
        "rebase": rebase,
        "from_remote_branch": to_plain(from_remote_branch),
        "present": present,
        "assume_repo_exists": assume_repo_exists,
        "force": force,
        "user": user,
        "group": group,
    }


@builtin_operation("git.bare_repo")
def bare_repo(
    path: str,
    user: str | None = None,
    group: str | None = None,
    present=True,
):
    """
    Create or delete a bare git repository.

    + path: the repository's folder
    + user: owner given to the whole repository
    + group: group given to the whole repository
    + present: ``False`` deletes the repository

    A repository counts as there once its ``HEAD`` file exists.

    **Example:**

    .. code:: python

        git.bare_repo(
            name="Repository the team pushes to",
            path="/srv/git/app.git",
            user="git",
            group="git",
        )
    """
    return {"path": to_plain(path), "user": user, "group": group, "present": to_plain(present)}
