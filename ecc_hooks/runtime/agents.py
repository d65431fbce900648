"""The coding agents a worker can run: how to check one is installed, launch it, resume it and read its screen.

One ``Agent`` per supported agent: the binary, how to ask its version, how it takes a prompt (an argument, stdin,
or typed into its pane), its permission and model flags, its resume command, and the screen patterns the
fallback detector matches when the agent has no hooks of ours (Claude Code workers are followed through their
hook journal instead: they start with ``--session-id <uuid>`` we choose, so hooks, transcript and HUD join on it).

A Claude Code worker gets our hooks from the runtime itself, whatever the user's settings hold: every command that
starts or resumes one names our settings layer (``--settings``, ``write_settings``), which Claude Code merges over the
user's settings; hooks the user installed too record each event once (``core.hookspec``). The other agents with a
harness module (``ecc_hooks.harness``: Codex, Gemini CLI, OpenCode, Aider) get theirs the same way, at every launch
and resume: the module's ``worker_capture`` says what environment and arguments a worker needs so that its events
reach our journal without touching the user's own configuration (``capture``, ``Agent.with_capture``).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from ecc_hooks.core import fsio, hookspec, jsonlite, paths, proc
from ecc_hooks.core.errors import UserError

if TYPE_CHECKING:
    from ecc_hooks.harness import WorkerCapture

VERSION_TIMEOUT = 30.0  # a node agent asked its version on a loaded machine took over 10 s (Gemini CLI under load 10)
# what a resumed headless run is told when the person gives no prompt (``claude -p --resume`` needs one)
RESUME_PROMPT = "Continue your task from where you stopped. When it is done, say what you did."
SEPARATORS = frozenset({"|", ";", "&", "&&", "||", "then"})  # a shell word before a command starts
AUTH_VARS = re.compile(r'\[ -z "\$\{(\w+):-\}" \]')  # the variables a credentials check tests (``command``)
RULES = frozenset("\u2500\u254c ")  # the box-drawing rules around a dialog (─ and ╌)


@dataclass(frozen=True)
class Agent:
    """What the runtime knows about one coding agent (every flag checked against the tool's own ``--help`` by
    tests/e2e/test_agent_registry.py at the versions CI installs)."""

    name: str
    binary: str
    version_args: tuple[str, ...] = ("--version",)
    # argument | typed (into its pane by the supervisor) | pasted (into its pane by its own command once its
    # input box is up: see ``paste_first``); a headless run takes an argument, or stdin (``headless_stdin``)
    prompt_via: str = "argument"
    ready: tuple[str, ...] = ()  # pasted: the screen shows its input box (a shell ``case`` pattern)
    not_ready: tuple[str, ...] = ()  # pasted: the screen shows a dialog a paste and Enter must not answer
    prompt_flag: Optional[str] = None  # the flag before the prompt in its pane (None: a positional argument)
    headless: tuple[str, ...] = ()  # the subcommand and flags of a non-interactive run (its output to a log)
    headless_prompt_flag: Optional[str] = None  # the flag before the prompt in a headless run
    # a headless run reads its prompt from stdin when none is given (Claude Code's ``-p``): the prompt is piped
    # in by the shell's ``printf`` builtin, so it is in no process's command line
    headless_stdin: bool = False
    background: tuple[str, ...] = ()  # the agent's own background sessions (Claude Code: --bg); ids are its own
    background_resume: tuple[str, ...] = ()  # continue one in the background; {session} is its id
    model_flag: Optional[str] = "--model"
    permission_flag: Optional[str] = None
    permission_headless: bool = True  # the headless subcommand takes the permission flag too
    # the tools a run may use without asking (Claude Code: --allowedTools "Bash(git merge:*),Edit"): a headless
    # run has no one to ask, so what it must run is allowed up front (``conflicts --resolve``)
    allowed_tools_flag: Optional[str] = None
    session_flag: Optional[str] = None  # ours chooses the session id (Claude Code: --session-id)
    settings_flag: Optional[str] = None  # takes a settings layer with our hooks (Claude Code: --settings)
    resume: tuple[str, ...] = ()  # the resume command's arguments; {session} is the id
    headless_resume: tuple[str, ...] = ()  # the same after ``headless`` (a new prompt on stdin); empty: none
    # screen patterns for agents without hooks: waiting for the user, working; and failures an exit status
    # of 0 hides (aider exits 0 when the API refuses its key)
    waiting: tuple[str, ...] = ()
    # dialogs that wait for the person, some of which fire no hook (Claude Code's folder trust question on every new
    # worktree): each pattern matches the dialog's own words, which become the worker's reason
    dialogs: tuple[str, ...] = ()
    working: tuple[str, ...] = ()
    failure: tuple[str, ...] = ()
    hooks: bool = False  # its state comes from our hook journal
    interrupt: tuple[str, ...] = ("C-c",)  # the keys that make it stop on its own (tmux key names)
    # its permission prompt: every pattern matches the screen while it asks (the question, its first option);
    # the keys that answer it yes (once) and no. Empty: not known for this agent, so never pressed blind
    permission: tuple[str, ...] = ()
    approve: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    # credentials: when none of auth_env is set, ``<binary> auth_check`` must pass before the agent starts (so
    # a worker without credentials fails at once with the tool's own words, instead of retrying forever)
    auth_check: tuple[str, ...] = ()
    auth_env: tuple[str, ...] = ()
    # its harness module's ``auth_env`` names more, from the agent's own config (Codex: the key of a provider of the
    # user's own, whose users are not logged in and need not be)
    auth_from_config: bool = False
    install_hint: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def launch(
        self,
        prompt: str,
        *,
        runtime: str = "tmux",
        model: Optional[str] = None,
        permission_mode: Optional[str] = None,
        session_id: Optional[str] = None,
        allowed_tools: Optional[str] = None,
    ) -> list[str]:
        """The argv that starts this agent on ``prompt`` (``typed``: the prompt is typed into the pane after;
        a headless run of an agent with ``headless_stdin``: the prompt is its stdin, see ``start``)."""
        headless = runtime == "headless"
        if runtime == "claude-bg":
            if not self.background:
                raise UserError(f"{self.name} has no background sessions of its own (runtime claude-bg)")
            argv = [self.binary, *self.background]
            session_id = None  # the background service chooses it
        else:
            argv = [self.binary, *(self.headless if headless else ())]
        if session_id and self.session_flag:
            argv += [self.session_flag, session_id]
        argv += self.settings_args()
        if model and self.model_flag:
            argv += [self.model_flag, model]
        if permission_mode and self.permission_flag and (self.permission_headless or not headless):
            argv += [self.permission_flag, permission_mode]
        if allowed_tools and self.allowed_tools_flag:
            argv += [self.allowed_tools_flag, allowed_tools]
        # the prompt is an argument unless it is piped (headless_stdin) or typed or pasted into the pane
        if headless:
            argued = not self.headless_stdin
        else:
            argued = self.prompt_via == "argument" or (self.prompt_via == "pasted" and runtime != "tmux")
        if argued:
            flag = self.headless_prompt_flag if headless else self.prompt_flag
            argv += [flag, prompt] if flag else [prompt]
        return argv

    def start(self, prompt: str, *, runtime: str = "tmux", **options: Optional[str]) -> str:
        """The shell line that starts this agent on ``prompt`` (``launch``, then ``command``)."""
        argv = self.launch(prompt, runtime=runtime, **options)
        if runtime == "headless":
            return self.command(argv, stdin=prompt if self.headless_stdin else None)
        if runtime == "tmux" and self.prompt_via == "pasted":
            return f"{paste_first(prompt, self.ready, self.not_ready)} {self.command(argv)}"
        return self.command(argv)

    def command(
        self, argv: Sequence[str], stdin: Optional[str] = None, auth_vars: Optional[Sequence[str]] = None
    ) -> str:
        """``argv`` as the shell line a worker runs, behind the credentials check when the agent has one (skipped
        when any of ``auth_vars``, default ``credential_vars()``, is set in the worker's environment); ``stdin``:
        piped into it by ``printf``, a shell builtin (no process of its own, no command line)."""
        line = shell(argv)
        if stdin is not None:
            line = f"printf '%s' {shlex.quote(stdin)} | {line}"
        if not self.auth_check:
            return line
        names = self.credential_vars() if auth_vars is None else auth_vars
        unset = " && ".join(f'[ -z "${{{var}:-}}" ]' for var in names) or "true"
        return f"if {unset}; then {shell([self.binary, *self.auth_check])} || exit 1; fi; {line}"

    def credential_vars(self) -> tuple[str, ...]:
        """The variables any of which, set, stands for credentials: ``auth_env`` and those the agent's own config
        names (``auth_from_config``), read now with this process's HOME (the worker's environment is built on it)."""
        if not self.auth_from_config:
            return self.auth_env
        from ecc_hooks import harness

        try:
            named_by = getattr(harness.module(self.name), "auth_env", None)  # optional in a harness module
        except ImportError:
            return self.auth_env
        named: tuple[str, ...] = tuple(named_by(os.environ)) if named_by else ()
        return (*self.auth_env, *(n for n in named if n not in self.auth_env))

    def parse_command(self, line: str) -> Optional[tuple[list[str], Optional[str]]]:
        """(argv, stdin) of a line ``command`` made for this agent, or None for any other line (a launcher of
        ECC's kind, a line typed by hand): the parse is checked by making the line again, so None is the answer
        whenever it would not come back the same (its credentials check as it was made: the config may differ now)."""
        made = AUTH_VARS.findall(line.split("; then ", 1)[0]) if self.auth_check else []
        auth = self.command([], auth_vars=made or None)  # the credentials check before the agent's own words
        if not line.startswith(auth):
            return None
        try:
            words = shlex.split(line[len(auth) :])
        except ValueError:
            return None
        stdin: Optional[str] = None
        if words[:2] == ["printf", "%s"] and len(words) > 3 and words[3] == "|":
            stdin, words = words[2], words[4:]
        if not words or words[0] != self.binary or self.command(words, stdin, made or None) != line:
            return None
        return words, stdin

    def with_capture(self, line: str, args: Sequence[str], runtime: str) -> Optional[str]:
        """``line`` (a launch or resume line of this agent's ``command``) with ``args`` after the binary and its
        subcommand (``codex exec``, ``codex resume``, ``opencode run``), where every subcommand takes them; None
        when ``line`` is not one of ours (``parse_command``)."""
        parsed = self.parse_command(line)
        if parsed is None:
            return None
        argv, stdin = parsed
        at = 1 + self._subcommand_words(argv, runtime)
        return self.command([*argv[:at], *args, *argv[at:]], stdin)

    def _subcommand_words(self, argv: Sequence[str], runtime: str) -> int:
        """How many words after the binary name its subcommand (those before the first flag of the headless or
        the resume arguments, when ``argv`` goes on with all of them: a prompt that is a subcommand's name is
        not one)."""
        planned = list(self.headless) if runtime == "headless" else list(self.resume)
        given = list(argv[1 : 1 + len(planned)])
        if not planned or len(given) < len(planned):
            return 0
        if not all(p == g or "{session}" in p for p, g in zip(planned, given)):
            return 0
        return len(leading_words(planned))

    def resume_argv(self, session_id: Optional[str], runtime: str = "tmux") -> list[str]:
        """The argv that resumes this agent's session (empty when it cannot be resumed)."""
        args = self.background_resume if runtime == "claude-bg" else self.resume
        if not args or (session_id is None and any("{session}" in a for a in args)):
            return []
        return [self.binary, *(a.replace("{session}", session_id or "") for a in args), *self.settings_args()]

    def settings_args(self) -> list[str]:
        """The flag and path of our settings layer (none for an agent without hooks of ours)."""
        return [self.settings_flag, paths.runtime_settings_path()] if self.settings_flag else []

    def launch_options(self, command: str) -> list[str]:
        """The model and permission flags (with their values) of a launch line this agent's ``start`` made: a
        resume keeps them. Read after the agent's own binary (a piped prompt before it is one quoted word)."""
        try:
            words = shlex.split(command)
        except ValueError:
            return []
        starts = [i for i, w in enumerate(words) if w == self.binary and (i == 0 or words[i - 1] in SEPARATORS)]
        if not starts:
            return []
        words = words[starts[-1] + 1 :]
        kept: list[str] = []
        for flag in (self.model_flag, self.permission_flag, self.allowed_tools_flag):
            if flag and flag in words[:-1]:
                kept += [flag, words[words.index(flag) + 1]]
        return kept

    def resume_line(
        self, session_id: Optional[str], runtime: str, prompt: Optional[str] = None, options: Sequence[str] = ()
    ) -> Optional[str]:
        """The shell line that resumes this agent's session with ``options`` (``launch_options``), on ``prompt``
        when given: a headless run takes it as its new prompt on stdin (``claude -p --resume <id>`` needs one);
        a pane gets it pasted once its input box is up. None: it cannot resume that way."""
        if runtime == "headless":
            args = self.headless_resume
            if not args or not self.headless_stdin or (session_id is None and any("{session}" in a for a in args)):
                return None
            argv = [self.binary, *self.headless, *(a.replace("{session}", session_id or "") for a in args)]
            return self.command([*argv, *self.settings_args(), *options], stdin=prompt or RESUME_PROMPT)
        argv = self.resume_argv(session_id, runtime)
        if not argv:
            return None
        if runtime == "claude-bg":
            if prompt:
                raise UserError("a background session resumes without a new prompt (claude --bg takes it as an "
                                "argument, where every local user could read it); send it with claude attach")  # fmt: skip
            return self.command(argv)
        line = self.command([*argv, *(options if runtime == "tmux" else ())])
        if prompt and runtime == "tmux":
            if self.prompt_via != "pasted":
                raise UserError(f"{self.name} takes no new prompt on resume here; resume it, then session send")
            return f"{paste_first(prompt, self.ready, self.not_ready)} {line}"
        return line

    def screen_state(self, screen: str) -> Optional[str]:
        """``waiting`` or ``running`` from the agent's own screen patterns (None: nothing matched)."""
        if self.screen_wait(screen) is not None:
            return "waiting"
        if any(re.search(p, screen) for p in self.working):
            return "running"
        return None

    def permission_prompt(self, screen: str) -> Optional[str]:
        """The question of the permission prompt ``screen`` shows (with the lines above it that say what is
        asked: the tool, its command or file), or None when it shows none."""
        if not self.permission or not all(re.search(p, screen, re.M) for p in self.permission):
            return None
        lines = screen.splitlines()
        question = max(i for i, line in enumerate(lines) if re.search(self.permission[0], line))
        top = question
        while top > 0 and question - top < 12 and not _top_rule(lines[top - 1]):
            top -= 1  # up to the dialog's top rule
        kept = [line.strip() for line in lines[top : question + 1] if line.strip() and not set(line.strip()) <= RULES]
        return "\n".join(kept)

    def screen_wait(self, screen: str, dialogs_only: bool = False) -> Optional[str]:
        """What the screen asks the person, in its own words (a dialog's text up to the end of its pattern's match,
        else the line a waiting pattern matched; ``dialogs_only``: dialogs alone); None when it asks nothing."""
        for pattern in self.dialogs if dialogs_only else (*self.dialogs, *self.waiting):
            found = re.search(pattern, screen)
            if found:
                start = screen.rfind("\n", 0, found.start()) + 1
                end = found.end() if pattern in self.dialogs else screen.find("\n", found.end())
                end = len(screen) if end < 0 else end
                return " ".join(screen[start:end].split())[:200] or found.group(0)
        return None

    def failed(self, output: str) -> Optional[str]:
        """The line of ``output`` where the agent says it failed, for an exit status of 0 (None: no such line)."""
        for line in reversed(output.splitlines()):
            if any(re.search(p, line) for p in self.failure):
                return line.strip()
        return None


def leading_words(args: Sequence[str]) -> list[str]:
    """The words of ``args`` before its first flag (a subcommand: ``exec``, ``resume``, ``run``)."""
    out = []
    for arg in args:
        if arg.startswith("-"):
            break
        out.append(arg)
    return out


def _top_rule(line: str) -> bool:
    """A dialog's top rule: a row of ``─`` across the pane."""
    rule = line.strip()
    return len(rule) >= 20 and set(rule) == {"\u2500"}


AGENTS: dict[str, Agent] = {
    "claude": Agent(
        name="claude",
        binary="claude",
        headless=("-p", "--output-format", "stream-json", "--verbose"),
        headless_stdin=True,
        permission_flag="--permission-mode",
        allowed_tools_flag="--allowedTools",
        session_flag="--session-id",
        settings_flag="--settings",  # merged over the user's own settings (hooks of both run)
        prompt_via="pasted",  # its first prompt: an argument would be in its command line all its life
        ready=("❯",),
        # its dialogs (the folder trust question, permission questions) also draw ❯ at their selected option, and
        # Enter answers them: 2.1.328's trust dialog has its cursor on an unnumbered "No, exit"
        not_ready=("❯ 1.", "No, exit", "Yes, proceed", "trust this folder", "Quick safety check", "Enter to confirm"),
        resume=("--resume", "{session}"),
        headless_resume=("--resume", "{session}"),
        background=("--bg",),
        background_resume=("--bg", "--resume", "{session}"),
        waiting=(r"Do you want to proceed\?", r"Do you want to make this edit", r"❯ 1\. Yes"),
        # 2.1.328's words (tests/fixtures/captures/dialogs, captured by tests/e2e/capture_dialogs.py)
        dialogs=(  # any run of spaces or a line break between words: the client wraps to the pane's width
            r"Quick\s+safety\s+check:\s+Is\s+this\s+a\s+project\s+you\s+created\s+or\s+one\s+you\s+trust\?",
            r"Auto\s+mode\s+can't\s+check\s+actions\s+in\s+this\s+session",
            # a new ANTHROPIC_API_KEY: the key's line below is not part of the words kept
            r"Detected\s+a\s+custom\s+API\s+key\s+in\s+your\s+environment",
        ),
        working=(r"esc to interrupt",),
        hooks=True,
        interrupt=("Escape", "C-c", "C-c"),  # end the turn, then Claude Code's double Ctrl+C exits
        # 2.1.328's dialog: "Do you want to proceed?" (Bash), "Do you want to create c.txt?", "... make this edit
        # to ...?", then "❯ 1. Yes", "2. Yes, and always allow ...", "3. No", "Esc to cancel". A digit picks its
        # option wherever the cursor is; Esc cancels (the tool call is not run, the turn ends)
        permission=(r"^\s*Do you want to .+\?\s*$", r"^\s*(?:\u276f\s*)?1\. Yes\s*$", r"Esc to cancel"),
        approve=("1",),
        deny=("Escape",),
        install_hint="npm install -g @anthropic-ai/claude-code",
    ),
    "codex": Agent(
        name="codex",
        binary="codex",
        headless=("exec", "--color", "never", "--skip-git-repo-check"),
        headless_stdin=True,  # `codex exec` reads its instructions from stdin when none are given
        model_flag="--model",
        permission_flag="--ask-for-approval",
        permission_headless=False,  # `codex exec` never asks
        resume=("resume", "--last"),  # the worktree's latest session
        waiting=(r"Allow command\?", r"Would you like to run", r"\[y/N\]"),
        working=(r"esc to interrupt", r"Working"),
        interrupt=("Escape", "C-c", "C-c"),
        # 0.171.0's approval prompt: "Would you like to run the following command?", "› 1. Yes, proceed (y)", ...,
        # "Press enter to confirm or esc to cancel"; y approves once, Esc declines (tests/e2e/test_runtime_harnesses.py)
        permission=(r"^\s*Would you like to .+\?\s*$", r"^\W*1\. Yes, proceed", r"esc to cancel"),
        approve=("y",),
        deny=("Escape",),
        auth_check=("login", "status"),
        auth_env=("OPENAI_API_KEY", "CODEX_API_KEY"),
        auth_from_config=True,  # a model_provider of the user's own with its env_key set: no login
        install_hint="npm install -g @openai/codex",
    ),
    "opencode": Agent(
        name="opencode",
        binary="opencode",
        prompt_flag="--prompt",  # a positional argument would be its project folder
        headless=("run",),
        model_flag="--model",
        resume=("--continue",),  # the worktree's last session
        waiting=(r"Permission required", r"Allow\?"),
        working=(r"working", r"esc interrupt"),
        failure=(r"^\W*Error: ",),
        # 1.18.33's: "△ Permission required", the call, then "Allow once   Allow always   Reject" with Allow once
        # selected (Enter confirms); the keys that reject are not pinned down: never pressed blind
        permission=(r"Permission required", r"Allow once\s+Allow always\s+Reject"),
        approve=("Enter",),
        install_hint="npm install -g opencode-ai",
    ),
    "gemini": Agent(
        name="gemini",
        binary="gemini",
        prompt_flag="--prompt-interactive",  # run the prompt, then stay interactive
        headless_prompt_flag="--prompt",
        model_flag="--model",
        permission_flag="--approval-mode",
        resume=("--resume", "latest"),
        waiting=(r"Allow execution", r"Waiting for user confirmation"),
        working=(r"esc to cancel",),
        # 0.61.0's: "Allow execution of: '<command>'?" then "1. Allow once" (selected: Enter confirms) ... "No,
        # suggest changes (esc)"
        permission=(r"Allow execution of", r"1\. Allow once"),
        approve=("Enter",),
        deny=("Escape",),
        install_hint="npm install -g @google/gemini-cli",
    ),
    "aider": Agent(
        name="aider",
        binary="aider",
        prompt_via="typed",  # its positional arguments are files
        headless=("--yes-always",),
        headless_prompt_flag="--message",
        model_flag="--model",
        resume=("--restore-chat-history",),
        # a question it waits at (after a reply too: "Allow edits to x which was not previously added to chat?"),
        # whose notification says only "waiting for input": a dialog, which its events cannot say. The last line of
        # its screen: one answered stays on the screen above
        dialogs=(r"\(Y\)es/\(N\)o[^\n]*\s*\Z",),
        working=(r"Waiting for", r"Tokens:"),
        failure=(r"not able to authenticate you", r"API key.*(?:missing|invalid|not set)", r"litellm\.\w+Error"),
        install_hint="pip install aider-chat",
    ),
}


def write_settings() -> str:
    """Write the settings layer our Claude Code workers start with (0600; rewritten only when it changed, e.g.
    after an upgrade moved the interpreter) and return its path. OSError when it cannot be written."""
    path = paths.runtime_settings_path()
    data = (jsonlite.dumps(hookspec.runtime_settings()) + "\n").encode()
    try:
        if fsio.read_file(path, 1 << 20) == data:
            return path
    except (OSError, ValueError):
        pass
    fsio.atomic_write(path, data)
    return path


def capture(name: str, private_dir: str, session_id: Optional[str]) -> Optional[WorkerCapture]:
    """What a worker of agent ``name`` is given so that its events reach our journal: its harness module's
    ``worker_capture``, with the hook command for that harness and ``private_dir`` (the worker's own, made 0700
    here) for the files it needs; ``session_id``: the id we would like its session to have (kept when the agent
    lets us choose it: the answer's ``session_id``). None for an agent without a harness module (Claude Code's
    hooks come through its settings layer)."""
    from ecc_hooks import harness

    if name not in harness.HARNESSES:
        return None
    try:
        module = harness.module(name)
    except ImportError:
        return None  # its module is not there (yet): followed through its screen
    fsio.ensure_state_dir(private_dir)
    from pathlib import Path

    found: WorkerCapture = module.worker_capture(harness.hook_argv(name), Path(private_dir), session_id)
    return found


def record_exit(name: str, private_dir: str, session_id: str, launch_token: str, cwd: str) -> bool:
    """Record the last event of a worker whose agent ran no hook of ours at its exit (a headless Aider run: its
    harness module's ``exit_payload``), through the hook's own path (``capture.hook.handle``), once per launch: a
    mark in ``private_dir`` taken before the event is written. Whether an event was recorded now."""
    from ecc_hooks import harness

    if name not in harness.HARNESSES:
        return False
    try:
        from_log = getattr(harness.module(name), "exit_payload", None)
    except ImportError:
        return False
    if from_log is None:
        return False
    from pathlib import Path

    payload = from_log(Path(private_dir), session_id)
    if payload is None or not _mark_once(os.path.join(private_dir, f"exit-recorded-{launch_token}")):
        return False
    import time

    from ecc_hooks.capture import hook

    payload["cwd"] = cwd  # the worker's worktree (not the supervisor's folder)
    hook.handle(jsonlite.dumps(payload).encode(), None, time.time(), start=False, harness=harness.HARNESSES[name])
    return True


def _mark_once(path: str) -> bool:
    """Create the mark ``path`` (0600, no link followed); False when it exists already."""
    try:
        fd = fsio.open_file(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, create_dirs=True)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def get(name: str) -> Agent:
    """The agent called ``name``; UserError naming the known ones."""
    agent = AGENTS.get(name)
    if agent is None:
        raise UserError(f"unknown agent {name!r} (one of {', '.join(AGENTS)})")
    return agent


def check_installed(agent: Agent, path: Optional[str] = None) -> tuple[Optional[str], Optional[str]]:
    """(the binary's path and version line, or None and why not): run ``<binary> --version`` with a time limit."""
    found = shutil.which(agent.binary, path=path)
    if found is None:
        hint = f" (install it: {agent.install_hint})" if agent.install_hint else ""
        return None, f"{agent.name}: `{agent.binary}` is not on PATH{hint}"
    done = proc.run([found, *agent.version_args], timeout=VERSION_TIMEOUT)
    if not done.ok:
        why = done.error or f"exit {done.code}: {done.err_text().strip()[:200]}"
        return None, f"{agent.name}: `{found} {' '.join(agent.version_args)}` failed ({why})"
    text = (done.out or done.err).decode("utf-8", "replace").strip().splitlines()
    return f"{found} {text[0][:120] if text else ''}".strip(), None


def require(names: Sequence[str], path: Optional[str] = None) -> dict[str, str]:
    """Every agent in ``names`` installed (name -> path and version), else one UserError naming each missing one."""
    found: dict[str, str] = {}
    problems = []
    for name in dict.fromkeys(names):
        version, problem = check_installed(get(name), path)
        if version is None:
            problems.append(problem or name)
        else:
            found[name] = version
    if problems:
        raise UserError("missing agent(s), nothing was created:\n  " + "\n  ".join(problems))
    return found


# Looks at the screen 0.2 s apart for its first 30 s, then once a second: a dialog may wait for the person (the
# folder trust question) for as long as they take; after a day nothing is pasted. Ends with the pane.
PASTE_WAIT = 86_550
PASTE_SCRIPT = (
    '( n=0; while [ $n -lt {wait} ]; do s=$(tmux capture-pane -p -t "$TMUX_PANE") || exit 0; '
    'case "$s" in {not_ready}) ;; {ready}) break ;; esac; n=$((n+1)); '
    "if [ $n -lt 150 ]; then sleep 0.2; else sleep 1; fi; done; [ $n -lt {wait} ] || exit 0; "
    "b=ecc-hooks-prompt-$$; printf '%s' {prompt} | tmux load-buffer -b \"$b\" - || exit 0; "
    'tmux paste-buffer -p -d -b "$b" -t "$TMUX_PANE" || exit 0; n=0; while [ $n -lt 50 ]; do '
    's=$(tmux capture-pane -p -t "$TMUX_PANE") || exit 0; case "$s" in *{shown}*|*"[Pasted text"*) break ;; esac; '
    'n=$((n+1)); sleep 0.2; done; tmux send-keys -t "$TMUX_PANE" Enter ) </dev/null >/dev/null 2>&1 &'
)


def paste_first(prompt: str, ready: Sequence[str], not_ready: Sequence[str]) -> str:
    """A shell line that, in the background, waits for the agent's input box in its pane (``ready`` on the
    screen, none of ``not_ready``), pastes ``prompt`` into it and presses Enter, once the paste shows (or after
    10 s). The prompt is in no command line: ``printf``, a builtin, pipes it to ``tmux load-buffer -``; every
    ``tmux`` here finds the pane's server through ``$TMUX``. While a dialog is on the screen (``not_ready``)
    nothing is pasted or pressed: it waits for the person to answer it (a day at most)."""
    first = next((line.strip() for line in prompt.splitlines() if line.strip()), "")[:20]

    def patterns(items: Sequence[str]) -> str:
        return "|".join(f"*{shlex.quote(i)}*" for i in items) or "''"

    return PASTE_SCRIPT.format(
        wait=PASTE_WAIT,
        not_ready=patterns(not_ready),
        ready=patterns(ready) if ready else "*",
        prompt=shlex.quote(prompt),
        shown=shlex.quote(first),
    )


def shell(argv: Sequence[str]) -> str:
    """``argv`` as one shell command line (each word quoted)."""
    return shlex.join(argv)
