"""Git facts for the HUD; the ONE module that runs git.

Commands go through ``proc.run`` (a time bound that kills the process group) with ``GIT_*`` variables
stripped, so a caller running inside a git hook (where ``GIT_DIR`` and ``GIT_INDEX_FILE`` point elsewhere)
still sees the repository of the directory it asked about, with ``--no-optional-locks`` so reading status
never rewrites the index, and with ``safety_overrides``: nothing the repository's own config names
(fsmonitor, filters, textconv, hooks, pager, editor, credential helpers, ssh...) ever runs. Two or three
calls give everything:

- ``git rev-parse`` (git dir, common dir, bare, inside a work tree, toplevel),
- ``git status --porcelain=v2 --branch -z``, parsed here (branch, detached, upstream, ahead/behind,
  dirty, unmerged paths),
- ``git remote get-url origin`` (``owner/name``; ``url.insteadOf`` rewrites applied by git).

``toplevel`` (the installer's project, the orchestration root) and ``commits_since`` (handoffs) run
one command each through the same runner.

What the repository's config names is found by reading every file git could ever read as repository config
from the folder (includes followed whatever their condition) before each command: see "the repository
scope" below.

Nothing raises: no repo gives a state with everything null; a timeout keeps what earlier calls learned
and says so in ``errors``.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from ecc_hooks.sources.facts import GitState as GitState  # re-exported: callers name it gitstate.GitState

DEFAULT_TIMEOUT = 2.0  # seconds for all calls together; the HUD must never wait on a huge repo

# Remote URL forms: scheme://[user[:pass]@]host[:port]/path, and scp-like [user@]host:path.
_URL = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?:[^@/]*@)?(?P<host>[^/:]+)(?::\d*)?/(?P<path>.+)$", re.I)
_SCP = re.compile(r"^(?:[^@/:]+@)?(?P<host>[^/:]+):(?!/)(?P<path>.+)$")


def repo_from_url(url: Optional[str]) -> Optional[str]:
    """``owner/name`` from a remote URL (https, ssh, git, scp-like ``git@host:owner/name.git``); None for local paths."""
    where = remote_location(url)
    return where[1] if where else None


def remote_location(url: Optional[str]) -> Optional[tuple[str, str]]:
    """(host, ``owner/name``) of a remote URL, the host in lower case; None for local paths and other forms."""
    if not url or not isinstance(url, str):
        return None
    url = url.strip()
    match = _URL.match(url)
    if match:
        if match.group("scheme").lower() == "file":
            return None
        path = match.group("path")
    else:
        match = _SCP.match(url)
        # "C:/x" (a Windows drive) and "./x" are paths, not hosts
        if not match or len(match.group("host")) == 1 or url.startswith((".", "/")):
            return None
        path = match.group("path")
    host = match.group("host").lower()
    path = path.split("?", 1)[0].split("#", 1)[0].strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    parts = [p for p in path.split("/") if p]
    if len(parts) < 2 or any(p in (".", "..") for p in parts):
        return None
    # GitLab subgroups keep their full path (group/sub/name); GitHub has exactly owner/name.
    return host, "/".join(parts)


# ---------------------------------------------------------------------------- running git safely
#
# A repository's own config (.git/config, config.worktree and what they include) is untrusted: a cloned
# repository can name commands there that git would run for us. Every git call of ours gets ``-c``
# overrides, which outrank every config file: a fixed set for the keys that run commands on their own
# (fsmonitor, hooks, pager, editor), and, for every command-valued key the repository scope sets (filter
# and diff drivers, credential helpers, ssh, upload-pack...), the user's own value of that key (global or
# system config, which the user trusts) or a neutral one.

_ALWAYS = (
    ("core.fsmonitor", "false"),
    ("core.hooksPath", os.devnull),
    ("core.pager", "cat"),
    ("core.editor", "true"),
    ("sequence.editor", "true"),
    ("diff.external", ""),
    ("protocol.ext.allow", "never"),
    ("log.showSignature", "false"),
    # git never goes into a submodule for us (a submodule is another repository, with config of its own):
    ("submodule.recurse", "false"),
    ("fetch.recurseSubmodules", "false"),
    ("push.recurseSubmodules", "no"),
    ("diff.submodule", "short"),
    ("status.submoduleSummary", "false"),
    ("diff.ignoreSubmodules", "dirty"),
)
# Options the runner adds to a subcommand whatever the config: status and diff read a submodule's commit, never
# its work tree (that would run git in there; a .gitmodules ``ignore = none`` outranks diff.ignoreSubmodules).
_ALWAYS_OPTIONS = {"status": ["--ignore-submodules=dirty"], "diff": ["--ignore-submodules=dirty"]}
# Keys (lowercase; "*" is one subsection) whose value git runs as a command, with the neutral value used
# when the user's own config does not set them. Multi-valued lists (credential helpers) reset on "".
_COMMAND_KEYS = {
    "core.askpass": "",
    "core.sshcommand": "ssh",
    "core.gitproxy": "",
    "core.alternaterefscommand": "",
    "pager.*": "false",
    "diff.*.command": "",
    "diff.*.textconv": "",
    "filter.*.clean": "",
    "filter.*.smudge": "",
    "filter.*.process": "",
    "filter.*.required": "false",
    "merge.*.driver": "",
    "credential.helper": "",
    "credential.*.helper": "",
    "gpg.program": "gpg",
    "gpg.*.program": "",
    "gpg.ssh.defaultkeycommand": "",
    "remote.*.uploadpack": "git-upload-pack",
    "remote.*.receivepack": "git-receive-pack",
    "remote.*.vcs": "",
    "submodule.*.update": "checkout",
    "uploadpack.packobjectshook": "",
    "web.browser": "",
    "browser.*.cmd": "",
    "browser.*.path": "",
    "difftool.*.cmd": "",
    "mergetool.*.cmd": "",
    "interactive.difffilter": "",
    "sendemail.smtpserver": "",
    "sendemail.*.smtpserver": "",
    "sendemail.sendmailcmd": "",
    "sendemail.tocmd": "",
    "sendemail.cccmd": "",
    "sendemail.headercmd": "",
    "imap.tunnel": "",
    "trailer.*.command": "",
    "trailer.*.cmd": "",
    "difftool.*.path": "",
    "mergetool.*.path": "",
    "man.*.cmd": "",
    "man.*.path": "",
}
_REPO_SCOPES = ("local", "worktree", "command")


def _command_key(key: str) -> Optional[str]:
    """The ``_COMMAND_KEYS`` pattern ``key`` matches (subsections may contain dots), or None."""
    lowered = key.lower()
    if lowered in _COMMAND_KEYS:
        return lowered
    section, _, rest = lowered.partition(".")
    if "." not in rest:
        return None
    name = rest.rsplit(".", 1)[1]
    pattern = f"{section}.*.{name}"
    return pattern if pattern in _COMMAND_KEYS else None


def canonical_key(key: str) -> str:
    """``key`` as git compares it: section and name without case, the subsection (between them) as written."""
    section, _, rest = key.partition(".")
    if "." not in rest:
        return key.lower()
    middle, _, name = rest.rpartition(".")
    return f"{section.lower()}.{middle}.{name.lower()}"


def _config_entries(data: bytes) -> list[tuple[str, str, str]]:
    """(scope, key, value) from ``git config --list --show-scope -z``."""
    fields = data.split(b"\0")
    entries = []
    for i in range(0, len(fields) - 1, 2):
        scope = fields[i].decode("utf-8", "surrogateescape")
        key, _, value = fields[i + 1].decode("utf-8", "surrogateescape").partition("\n")
        entries.append((scope, key, value))
    return entries


# Lists, where "" resets what came before: the user's own entries are given again after the reset.
_LIST_KEYS = frozenset({"credential.helper", "credential.*.helper"})
# Keys git takes the FIRST value of (remote.c), which no override can outrank: the runner passes the
# command-line option instead (``Safety.args_for``).
_FIRST_WINS = {
    "remote.*.uploadpack": ("--upload-pack", ("fetch", "ls-remote", "pull", "clone")),
    "remote.*.receivepack": ("--receive-pack", ("push",)),
}


@dataclass
class Safety:
    """What keeps a repository's commands from running: config ``overrides`` and, for keys git reads first-wins,
    ``options`` to add to the subcommands that would use them."""

    overrides: list[tuple[str, str]]
    options: dict[str, list[str]] = field(default_factory=dict)  # subcommand -> options

    def args_for(self, args: tuple[str, ...]) -> list[str]:
        """``args`` with the safety options after the subcommand."""
        extra = self.options.get(args[0], []) if args else []
        return [args[0], *extra, *args[1:]] if extra else list(args)


def safety_overrides(entries: list[tuple[str, str, str]]) -> Safety:
    """The ``Safety`` of a repository from its config entries: every command its own config names stays off;
    the user's own (global, system) values of those keys apply instead."""
    user: dict[str, list[str]] = {}
    user_lists: list[tuple[str, str]] = []  # the user's own helper entries, all list keys, in config order
    for scope, key, value in entries:
        if scope not in _REPO_SCOPES and _command_key(key):
            user.setdefault(canonical_key(key), []).append(value)
            if _command_key(key) in _LIST_KEYS:
                user_lists.append((key, value))
    overrides = list(_ALWAYS)
    options: dict[str, list[str]] = {k: list(v) for k, v in _ALWAYS_OPTIONS.items()}
    seen = set()
    reset = False
    for scope, key, _ in entries:
        pattern = _command_key(key)
        # git tells keys apart by their subsection's case (filter.X and filter.x are two drivers)
        if scope not in _REPO_SCOPES or not pattern or canonical_key(key) in seen:
            continue
        seen.add(canonical_key(key))
        own = user.get(canonical_key(key), [])
        if pattern in _FIRST_WINS:
            option, commands = _FIRST_WINS[pattern]
            for command in commands:
                options.setdefault(command, []).append(f"{option}={own[0] if own else _COMMAND_KEYS[pattern]}")
        elif pattern in _LIST_KEYS:
            # One "" for the key every URL matches empties the whole helper list (every URL's too), then the
            # user's own entries come back.
            if not reset:
                reset = True
                overrides += [("credential.helper", "")] + user_lists
        else:
            overrides.append((key, own[-1] if own else _COMMAND_KEYS[pattern]))  # the last one wins, as in git
    return Safety(overrides, options)


# ---------------------------------------------------------------------------- the repository scope, all of it
#
# Listing the config git sees in one folder misses what applies elsewhere or later: ``includeIf`` conditions
# (``gitdir``, ``onbranch``, ``hasconfig``) turn on in a new worktree, on another branch, after a merge. So the
# repository scope is taken as everything git could ever read as repository config from a folder: the
# ``config`` and every ``config.worktree`` of each git dir git could discover there, and, followed
# UNCONDITIONALLY, every ``include.path`` and ``includeIf.<any condition>.path`` in them. Git parses each
# file on its own (``git config --file - --no-includes --list -z``, the bytes on stdin: nothing is included,
# nothing runs, a FIFO never blocks it), and every command-valued key found in any of them is overridden,
# so no condition can turn one on. The files are read again before each command: a merge that changes an
# included file changes the overrides of the next command. An include this cannot account for (another
# user's file or a folder others can write, a FIFO, ``%(prefix)/``, more files than git could ever read)
# stops git from running there at all, and so does a ``core.worktree`` that points git at another folder.

MAX_INCLUDE_DEPTH = 10  # git's own limit: it dies rather than read deeper
MAX_CONFIG_FILES = 64
CONFIG_CAP = 1 << 20  # bytes of one config file; a bigger one is refused
REFUSED = 200  # the exit status ``run`` reports when it ran no git (git's own are 0, 1, 128, 129, 255)
_PARSED: dict[bytes, list[tuple[str, Optional[str]]]] = {}  # config bytes -> git's parse of them
_PARSED_MAX = 64


class Refused(Exception):
    """A repository whose config cannot be accounted for: no git runs there."""


def file_entries(data: bytes) -> list[tuple[str, Optional[str]]]:
    """(key, value) from ``git config --list -z`` of one file; the value None for a bare ``key`` (no ``=``)."""
    entries: list[tuple[str, Optional[str]]] = []
    for item in data.split(b"\0")[:-1]:
        text = item.decode("utf-8", "surrogateescape")
        key, newline, value = text.partition("\n")
        entries.append((key, value if newline else None))
    return entries


def include_targets(entries: list[tuple[str, Optional[str]]], including: str, home: Optional[str]) -> list[str]:
    """The paths the ``include.path``/``includeIf.*.path`` entries of the file ``including`` name, whatever
    their condition, resolved as git does: ``~/`` is ``home``, ``~user/`` that user's home, a relative path is
    relative to the including file's folder. Refused for what git resolves in ways this cannot follow
    (``%(prefix)/``); entries git would reject (no value, an unknown user, no home) name nothing."""
    targets = []
    for key, value in entries:
        lowered = key.lower()
        if lowered != "include.path" and not (lowered.startswith("includeif.") and lowered.endswith(".path")):
            continue
        if not value:
            continue  # git refuses an include without a path (and an empty one names nothing)
        if value.startswith("%(prefix)/"):
            raise Refused(f"{including} includes {value!r}, relative to git's installation: not followed")
        if value.startswith("~"):
            user, slash, rest = value[1:].partition("/")
            if user:
                import pwd

                try:
                    base: Optional[str] = pwd.getpwnam(user).pw_dir
                except (KeyError, UnicodeEncodeError):
                    continue  # git cannot expand it either: it dies, reading nothing
            else:
                base = home
            if not base:
                continue
            value = base + (slash + rest if slash else "")
        targets.append(value if value.startswith("/") else os.path.join(os.path.dirname(including), value))
    return targets


def _private_group(gid: int) -> bool:
    """Whether a group-writable folder's group is the user's own (a user private group with no one else in it)."""
    import grp
    import pwd

    try:
        members = set(grp.getgrgid(gid).gr_mem) - {pwd.getpwuid(os.geteuid()).pw_name}
    except KeyError:
        return False
    return gid == os.getegid() and not members


def _writable_by_others(st: os.stat_result) -> bool:
    return bool(st.st_mode & 0o002) or (bool(st.st_mode & 0o020) and not _private_group(st.st_gid))


def untrusted(path: str) -> Optional[str]:
    """Why another local user could change what ``path`` (absolute) holds, or None: every folder on the way
    and the file itself must belong to the user or root, none writable by others (a sticky folder's entries
    must be the user's or root's), links followed as the kernel does and checked the same way. A missing file
    is trusted only where no one else could create it."""
    trusted = (os.geteuid(), 0)
    pending = [c for c in path.split("/") if c]
    here, st_here = "/", os.lstat("/")
    links = 0
    while pending:
        name = pending.pop(0)
        if name == ".":
            continue
        if name == "..":
            here = os.path.dirname(here)
            st_here = os.lstat(here)
            continue
        child = os.path.join(here, name)
        try:
            st = os.lstat(child)
        except (FileNotFoundError, NotADirectoryError):
            return f"{here} is writable by other users" if _writable_by_others(st_here) else None
        except OSError as exc:
            return f"{child} cannot be checked ({exc.strerror or exc})"
        if _writable_by_others(st_here) and not (st_here.st_mode & 0o1000 and st.st_uid in trusted):
            return f"{here} is writable by other users"
        if st.st_uid not in trusted:
            return f"{child} belongs to uid {st.st_uid}"
        if (st.st_mode & 0o170000) == 0o120000:  # a link: its target, from where it is
            links += 1
            if links > 40:
                return f"{path} goes through too many links"
            try:
                target = os.readlink(child)
            except OSError as exc:
                return f"{child} cannot be checked ({exc.strerror or exc})"
            if target.startswith("/"):
                here, st_here = "/", os.lstat("/")
            pending = [c for c in target.split("/") if c] + pending
            continue
        if pending and (st.st_mode & 0o170000) != 0o040000:
            return None  # not a folder: the path names nothing (git skips it)
        if not pending and _writable_by_others(st):
            return f"{child} is writable by other users"
        here, st_here = child, st
    return None


def _read_config(path: str) -> Optional[bytes]:
    """The bytes of a config file; None when it does not exist (git skips it); Refused when it is not a regular
    file (a FIFO never blocks this), is too big or cannot be read."""
    from ecc_hooks.core import fsio

    try:
        data = fsio.read_file(path, CONFIG_CAP + 1)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except fsio.UnsafeFile:
        raise Refused(f"the config file {path} is not a regular file (a FIFO would block git)") from None
    except OSError as exc:
        raise Refused(f"cannot read the config file {path}: {exc.strerror or exc}") from None
    if len(data) > CONFIG_CAP:
        raise Refused(f"the config file {path} is over {CONFIG_CAP} bytes")
    return data


def _gitfile_target(path: str) -> Optional[str]:
    """The git dir a ``.git`` file names (``gitdir: <path>``, relative to its folder), or None."""
    data = _read_config(path)
    if data is None or not data.startswith(b"gitdir: "):
        return None
    target = data[8:].rstrip(b"\r\n").decode("utf-8", "surrogateescape")
    return target if target.startswith("/") else os.path.join(os.path.dirname(path), target)


def git_dirs(cwd: str) -> list[tuple[str, Optional[str]]]:
    """(git dir, the folder its ``.git`` was found in, None for a bare one) for every repository git could
    discover from ``cwd``: at each level up to ``/``, ``D/.git`` (a folder or a ``gitdir:`` file) and ``D``
    itself when it looks like a git dir. All of them, not only the first: git skips a ``.git`` it finds
    invalid and goes on up, so the one it uses is among these. Both the folder's parents as named and its
    physical ones (git walks up from ``getcwd``, where links are resolved) are looked at."""
    found: list[tuple[str, Optional[str]]] = []
    for start in dict.fromkeys((os.path.abspath(cwd), os.path.realpath(cwd))):
        here = start
        while True:
            dotgit = os.path.join(here, ".git")
            try:
                mode = os.stat(dotgit).st_mode & 0o170000
            except OSError:
                mode = 0
            candidates: list[tuple[str, Optional[str]]] = []
            if mode == 0o040000:
                candidates.append((os.path.realpath(dotgit), here))
            elif mode == 0o100000:
                target = _gitfile_target(dotgit)
                if target:
                    candidates.append((os.path.realpath(target), here))
            if os.path.isfile(os.path.join(here, "HEAD")) and (
                os.path.isdir(os.path.join(here, "refs")) or os.path.isfile(os.path.join(here, "commondir"))
            ):
                candidates.append((os.path.realpath(here), None))
            found += [c for c in candidates if c not in found]
            parent = os.path.dirname(here)
            if parent == here:
                break
            here = parent
    return found


def _common_dir(git_dir: str) -> tuple[str, bool]:
    """(the common dir of ``git_dir``, whether it is a linked worktree's, i.e. has a ``commondir`` file)."""
    data = _read_config(os.path.join(git_dir, "commondir"))
    if data is None:
        return git_dir, False
    common = data.rstrip(b"\r\n").decode("utf-8", "surrogateescape")
    return os.path.realpath(common if common.startswith("/") else os.path.join(git_dir, common)), True


def _root_files(common: str) -> list[str]:
    """The files git reads as repository config for any worktree of the repository at ``common``, and of its
    submodules (their git dirs under ``modules/``, nested ones too: git runs in them for some commands)."""
    files = []
    for git_dir in [common, *_module_dirs(common)]:
        files += [os.path.join(git_dir, "config"), os.path.join(git_dir, "config.worktree")]
        try:
            names = sorted(os.listdir(os.path.join(git_dir, "worktrees")))
        except OSError:
            names = []
        files += [os.path.join(git_dir, "worktrees", n, "config.worktree") for n in names]
    return files


def _module_dirs(common: str) -> list[str]:
    """The submodules' git dirs below ``common/modules`` (a name may hold slashes; a git dir holds ``HEAD``)."""
    found: list[str] = []
    pending = [os.path.join(common, "modules")]
    while pending:
        folder = pending.pop()
        if os.path.isfile(os.path.join(folder, "HEAD")):
            found.append(folder)
            if len(found) > MAX_CONFIG_FILES:
                raise Refused(f"{common} has more than {MAX_CONFIG_FILES} submodules")
            pending.append(os.path.join(folder, "modules"))
            continue
        try:
            with os.scandir(folder) as entries:
                pending += sorted(e.path for e in entries if e.is_dir(follow_symlinks=False))
        except OSError:
            continue
    return found


def override_env(overrides: list[tuple[str, str]]) -> dict[str, str]:
    """Config overrides as ``GIT_CONFIG_COUNT``/``KEY_n``/``VALUE_n`` (git 2.31+): they outrank every config
    file like ``-c`` does, reach the git processes git starts itself, and, unlike ``-c key=value``, are never
    misparsed when a hostile subsection name holds an ``=``."""
    env = {"GIT_CONFIG_COUNT": str(len(overrides))}
    for i, (key, value) in enumerate(overrides):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    return env


def git_env() -> dict[str, str]:
    """The environment of our git calls: no ``GIT_*`` of the caller's (a git hook's ``GIT_DIR`` would point
    elsewhere), no prompts, no pager, no editor, C messages."""
    from ecc_hooks.core import proc

    return proc.clean_env(
        ("GIT_",),
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_PAGER": "cat",
            "PAGER": "cat",
            "GIT_EDITOR": "true",
            "GIT_SEQUENCE_EDITOR": "true",
            "GIT_ASKPASS": "true",
            "SSH_ASKPASS": "true",
            "GIT_PROXY_COMMAND": "",
            "LC_ALL": "C",
            "LANGUAGE": "C",
            "GCM_INTERACTIVE": "never",
        },
    )


class _TimedOut(Exception):
    """The runner's deadline passed while it was reading the repository's config."""


class _Runner:
    """Runs git commands in one directory against one overall deadline, with the repository's commands off.

    Before each command the repository scope (every file git could read as repository config from here,
    includes followed unconditionally) is read again; when its bytes changed, the overrides are made again.
    """

    def __init__(self, cwd: str, timeout: float) -> None:
        self.cwd = cwd
        self._deadline = time.monotonic() + timeout
        self.timed_out = False
        self.env: Optional[dict[str, str]] = None
        self.safety = Safety(list(_ALWAYS))
        self.refused: Optional[str] = None  # why no git ran, when the repository's config could not be accounted for
        self._scope: Optional[tuple[tuple[str, Optional[bytes]], ...]] = None
        self._user: Optional[list[tuple[str, str, str]]] = None

    def safe_env(self) -> dict[str, str]:
        """The environment with this repository's safety overrides; Refused when its config cannot be accounted
        for. The user's own config is listed once per runner (running nothing); the repository's files are
        read again each time and parsed by git when their bytes are new."""
        base = git_env()
        if self.env is None:
            self.env = {**base, **override_env(list(_ALWAYS))}
        files, entries = self._repository_scope()
        if self._user is None:
            listed = self._exec(
                ["git", "--no-pager", "--no-optional-locks", "config", "--list", "--show-scope", "-z"], None
            )
            if listed is None and self.timed_out:
                raise _TimedOut()
            self._user = _config_entries(listed.out) if listed is not None and listed.code == 0 else []
        if files != self._scope:
            self.safety = safety_overrides(self._user + entries)
            self.env = {**base, **override_env(self.safety.overrides)}
            self._scope = files
        return self.env

    def _parse(self, path: str, data: bytes) -> list[tuple[str, Optional[str]]]:
        """Git's own parse of one config file's bytes (no include followed, nothing run)."""
        if data in _PARSED:
            return _PARSED[data]
        done = self._exec(["git", "--no-pager", "config", "--file", "-", "--no-includes", "--list", "-z"], data, "/")
        if done is None:
            if self.timed_out:
                raise _TimedOut()
            raise Refused("git could not be started to read the repository's config")
        if done.code != 0:
            raise Refused(f"the config file {path} does not parse: {done.err_text().strip()[:200]}")
        entries = file_entries(done.out)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[data] = entries
        return entries

    def _repository_scope(self) -> tuple[tuple[tuple[str, Optional[bytes]], ...], list[tuple[str, str, str]]]:
        """(every repository config file's path and bytes, None when missing; their entries as "local" ones)."""
        from collections import deque

        pending: deque[tuple[str, int]] = deque()
        seen: set[str] = set()
        worktree_checks = []
        for git_dir, folder in git_dirs(self.cwd):
            common, linked = _common_dir(git_dir)
            if not linked:  # git reads core.worktree (from these two files only) for these alone
                worktree_checks.append((git_dir, folder, common))
            for path in _root_files(common):
                if path not in seen:
                    seen.add(path)
                    pending.append((path, 0))
        files: list[tuple[str, Optional[bytes]]] = []
        entries: list[tuple[str, str, str]] = []
        parsed: dict[str, list[tuple[str, Optional[str]]]] = {}
        home = os.environ.get("HOME")
        while pending:
            path, depth = pending.popleft()
            if depth:
                reason = untrusted(path)
                if reason:
                    raise Refused(
                        f"the repository's config includes {path}, and {reason}: remove the include or keep the "
                        "file where only you can write"
                    )
            data = _read_config(path)
            files.append((path, data))
            if data is None:
                continue
            pairs = parsed[path] = self._parse(path, data)
            entries += [("local", key, value) for key, value in pairs if value is not None]
            if depth >= MAX_INCLUDE_DEPTH:
                continue  # git dies before it reads what this file includes
            for target in include_targets(pairs, path, home):
                if target not in seen:
                    if len(seen) >= MAX_CONFIG_FILES:
                        raise Refused(f"the repository's config includes more than {MAX_CONFIG_FILES} files")
                    seen.add(target)
                    pending.append((target, depth + 1))
        for git_dir, folder, common in worktree_checks:
            values = [v for f in ("config", "config.worktree") for k, v in parsed.get(os.path.join(common, f), [])
                      if k.lower() == "core.worktree" and v is not None]  # fmt: skip
            if not values:
                continue
            where = os.path.realpath(os.path.join(git_dir, values[-1]))
            if folder is None or where != os.path.realpath(folder):
                raise Refused(f"the core.worktree of {git_dir} points git at {where}, not at the folder holding it")
        return tuple(files), entries

    def _exec(self, argv: list[str], input: Optional[bytes], cwd: Optional[str] = None) -> Any:
        from ecc_hooks.core import proc

        left = self._deadline - time.monotonic()
        if left <= 0:
            self.timed_out = True
            return None
        result = proc.run(argv, cwd=cwd or self.cwd, timeout=left, input=input, env=self.env or git_env())
        if result.timed_out:
            self.timed_out = True
            return None
        return None if result.code is None else result

    def _missing(self) -> Optional[str]:
        """Why no git can run here when the folder is gone (a worktree deleted by hand): said at once, not as
        "did not finish" (the process cannot even start in it, which ``proc`` reports as a missing program)."""
        if os.path.isdir(self.cwd):
            return None
        self.refused = f"ecc-hooks runs no git in {self.cwd}: the folder does not exist"
        return self.refused

    def run(self, *args: str, input: Optional[bytes] = None) -> Optional[tuple[int, bytes, str]]:
        """(exit status, stdout bytes, stderr) or None when the deadline passed or git could not start; when the
        repository's config cannot be accounted for, or its folder does not exist, no git runs: (``REFUSED``, b"",
        why)."""
        missing = self._missing()
        if missing:
            return REFUSED, b"", missing
        try:
            self.safe_env()
        except _TimedOut:
            return None
        except Refused as exc:
            self.refused = str(exc)
            return REFUSED, b"", f"ecc-hooks runs no git in {self.cwd}: {exc}"
        result = self._exec(["git", "--no-pager", "--no-optional-locks", *self.safety.args_for(args)], input)
        if result is None:
            return None
        return result.code, result.out, result.err_text()


def head(
    cwd: str, *args: str, lines: int, max_bytes: int, timeout: float = DEFAULT_TIMEOUT
) -> Optional[tuple[bytes, bool]]:
    """The first ``lines`` lines of a git command's output through the safe runner, and whether it had more; git
    is stopped once that is known (memory bounded by the head). None when it timed out or could not start;
    ``Refused`` (no git ran) when the repository's config cannot be accounted for."""
    from ecc_hooks.core import proc

    command = _Runner(cwd, timeout)
    missing = command._missing()
    if missing:
        raise Refused(missing)
    try:
        env = command.safe_env()
    except _TimedOut:
        return None
    argv = ["git", "--no-pager", "--no-optional-locks", *command.safety.args_for(args)]
    result, more = proc.run_head(argv, cwd=cwd, env=env, timeout=timeout, lines=lines, max_bytes=max_bytes)
    if result.error is not None:
        return None
    return result.out, more


def runner(cwd: str, timeout: float = DEFAULT_TIMEOUT) -> _Runner:
    """A safe runner for several git commands in ``cwd`` under one deadline: the repository's config is listed
    once for all of them (``run`` lists it per command)."""
    return _Runner(cwd, timeout)


def run(cwd: str, *args: str, timeout: float = DEFAULT_TIMEOUT) -> Optional[tuple[int, bytes, str]]:
    """One git command in ``cwd`` through the safe runner (nothing the repository configures runs: its hooks,
    filters, fsmonitor...): (exit status, stdout, stderr), or None when it timed out or could not start. The one
    way code outside this module runs git (the runtime's worktree writes too)."""
    return _Runner(cwd, timeout).run(*args)


def parse_porcelain_v2(data: bytes) -> dict[str, Any]:
    """Parse ``git status --porcelain=v2 --branch -z`` output into branch, ahead/behind and path counts."""
    result: dict[str, Any] = {
        "oid": None,
        "head": None,
        "upstream": None,
        "ahead": None,
        "behind": None,
        "staged": 0,
        "unstaged": 0,
        "untracked": 0,
        "conflicted": [],
    }
    fields = data.split(b"\0")
    i = 0
    while i < len(fields):
        entry = fields[i].decode("utf-8", "surrogateescape")
        i += 1
        if not entry:
            continue
        kind = entry[0]
        if kind == "#":
            parts = entry.split(" ", 2)
            if len(parts) < 3:
                continue
            key, value = parts[1], parts[2]
            if key == "branch.oid":
                result["oid"] = None if value == "(initial)" else value
            elif key == "branch.head":
                result["head"] = value
            elif key == "branch.upstream":
                result["upstream"] = value
            elif key == "branch.ab":
                ab = value.split()
                try:
                    result["ahead"], result["behind"] = int(ab[0].lstrip("+")), abs(int(ab[1]))
                except (IndexError, ValueError):
                    pass
        elif kind in "12":
            # "1 XY sub mH mI mW hH hI path"; "2 ... X<score> path" then the original path as its own field
            xy = entry[2:4]
            if len(xy) == 2:
                if xy[0] != ".":
                    result["staged"] += 1
                if xy[1] != ".":
                    result["unstaged"] += 1
            if kind == "2":
                i += 1  # skip the rename's source path
        elif kind == "u":
            parts = entry.split(" ", 10)
            if len(parts) == 11:
                result["conflicted"].append(parts[10])
        elif kind == "?":
            result["untracked"] += 1
    return result


def read_git_state(cwd: Optional[str], timeout: float = DEFAULT_TIMEOUT) -> GitState:
    """Everything the HUD needs from git about ``cwd``; never raises, never waits past ``timeout``."""
    state = GitState()
    if not cwd or not os.path.isdir(cwd):
        return state
    try:
        runner = _Runner(cwd, timeout)
    except Exception as exc:
        state.errors.append(f"git unavailable: {exc}")
        return state
    rev = runner.run(
        "rev-parse",
        "--path-format=absolute",
        "--absolute-git-dir",
        "--git-common-dir",
        "--is-bare-repository",
        "--is-inside-work-tree",
        "--show-toplevel",
    )
    if rev is None:
        state.errors.append("git rev-parse timed out" if runner.timed_out else "git did not run")
        return state
    if runner.refused:
        state.errors.append(f"git not run: {runner.refused}"[:300])
        return state
    # Outside a work tree (bare repo, inside .git) --show-toplevel fails but the lines before it stand.
    lines = rev[1].decode("utf-8", "surrogateescape").split("\n")
    if len(lines) < 4 or not lines[0].startswith("/"):
        state.complete = True  # git answered: not a repository
        return state
    state.is_repo = True
    state.git_dir, state.common_dir = lines[0], lines[1]
    state.bare = lines[2] == "true"
    inside = lines[3] == "true"
    state.linked_worktree = os.path.realpath(state.git_dir) != os.path.realpath(state.common_dir)
    if inside and len(lines) > 4 and lines[4]:
        state.worktree = lines[4]

    remote = runner.run("remote", "get-url", "origin")
    if remote is not None and remote[0] == 0:
        state.repo = repo_from_url(remote[1].decode("utf-8", "replace").strip())

    if inside:
        status = runner.run("status", "--porcelain=v2", "--branch", "-z")
        if status is not None and status[0] == 0:
            parsed = parse_porcelain_v2(status[1])
            head = parsed["head"]
            state.detached = head == "(detached)"
            state.branch = None if state.detached else head
            state.head = parsed["oid"]
            state.upstream = parsed["upstream"]
            state.ahead, state.behind = parsed["ahead"], parsed["behind"]
            state.staged, state.unstaged, state.untracked = parsed["staged"], parsed["unstaged"], parsed["untracked"]
            state.conflicted_paths = parsed["conflicted"]
            state.conflicts = len(parsed["conflicted"])
            state.dirty = bool(state.staged or state.unstaged or state.untracked or state.conflicts)
        elif status is not None:
            state.errors.append("git status failed: " + status[2].strip()[:200])
    else:
        # Bare repo (or inside .git): HEAD still names a branch; no work tree, so nothing is dirty.
        head = runner.run("symbolic-ref", "--quiet", "--short", "HEAD")
        if head is not None:
            state.detached = head[0] != 0
            state.branch = head[1].decode("utf-8", "replace").strip() or None if head[0] == 0 else None
    if runner.timed_out:
        state.errors.append(f"git timed out after {timeout:g}s; showing what was known")
    state.complete = not runner.timed_out and not state.errors
    return state


def toplevel(cwd: Optional[str], timeout: float = DEFAULT_TIMEOUT) -> Optional[str]:
    """The top folder of the work tree holding ``cwd``, or None outside one (a bare repository, inside ``.git``)
    or when git cannot say (it timed out, or the repository's config cannot be accounted for)."""
    if not cwd or not os.path.isdir(cwd):
        return None
    done = _Runner(cwd, timeout).run("rev-parse", "--path-format=absolute", "--show-toplevel")
    if done is None or done[0] != 0:
        return None
    top = done[1].decode("utf-8", "surrogateescape").rstrip("\n")
    return os.path.realpath(top) if top.startswith("/") else None


MAX_COMMITS = 50


def commits_since(
    cwd: Optional[str],
    since: Optional[str],
    timeout: float = DEFAULT_TIMEOUT,
    limit: int = MAX_COMMITS,
    base: Optional[str] = None,
) -> Optional[list[dict[str, str]]]:
    """Commits made since a session began, newest first; None when git cannot say.

    With ``base`` (the commit HEAD pointed at when the session started) that is exactly
    ``base..HEAD``; without it, commits on HEAD dated at or after ``since`` (ISO-8601), which git
    can only tell to the second.
    """
    if base is not None and not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", base):
        return None  # a journal is user data: never hand git anything but a commit id here
    if not cwd or not (since or base) or not os.path.isdir(cwd):
        return None
    try:
        runner = _Runner(cwd, timeout)
    except Exception:
        return None
    selector = [f"{base}..HEAD"] if base else [f"--since={since}", "HEAD"]
    result = runner.run("log", f"-n{limit}", "--format=%H%x1f%s%x1f%cI", *selector, "--")
    if result is None or result[0] != 0:
        return None
    commits = []
    for line in result[1].decode("utf-8", "replace").splitlines():
        parts = line.split("\x1f")
        if len(parts) == 3:
            commits.append({"sha": parts[0], "subject": parts[1], "date": parts[2]})
    return commits


MAX_CHANGED_FILES = 500


def files_changed_since(
    cwd: Optional[str], base: Optional[str], timeout: float = DEFAULT_TIMEOUT, limit: int = MAX_CHANGED_FILES
) -> Optional[list[str]]:
    """Paths (relative to the worktree's top) that differ between ``base`` (HEAD when the session started) and
    the work tree: committed since, staged, unstaged, and new untracked files (ignored ones left out). The
    index is never written (``--no-optional-locks``). None when git cannot say."""
    if base is None or not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", base):
        return None  # a journal is user data: never hand git anything but a commit id here
    if not cwd or not os.path.isdir(cwd):
        return None
    try:
        runner = _Runner(cwd, timeout)
    except Exception:
        return None
    tracked = runner.run("diff", "--name-only", "-z", "--no-renames", base, "--")
    untracked = runner.run("ls-files", "-z", "--others", "--exclude-standard", "--full-name", "--", ":/")
    if tracked is None or tracked[0] != 0 or untracked is None or untracked[0] != 0:
        return None
    names: list[str] = []
    for raw in (tracked[1], untracked[1]):
        for item in raw.split(b"\0"):
            name = item.decode("utf-8", "replace")
            if name and name not in names:
                names.append(name)
    return names[:limit]
