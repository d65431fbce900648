"""A real repository with real worker worktrees, and the diff and queues the runtime computes for them.

The HUD widgets' tests draw what the runtime really returns: ``runtime.merge.diff`` of a worker with committed,
staged, unstaged and untracked work, and ``runtime.merge.queue`` / ``conflicts`` of a session whose workers are
ready, blocked by the base, blocked by each other, dirty, still running and gone. Only git runs (no supervisor,
no tmux): the store is read for the session's workers alone, so a list stands in for it. The temporary folder's
path is replaced by a fixed one in the results, so snapshots do not depend on where the test ran.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ecc_hooks.runtime import merge
from ecc_hooks.runtime import store as st
from tests.helpers import git, make_repo

STABLE_ROOT = "/home/dev/shop"
BASE_FILES = {
    "src/shop/cart.py": (
        '"""The shopping cart."""\n\n\nclass Cart:\n    def __init__(self):\n        self.items = []\n\n'
        "    def add(self, sku, qty=1):\n        self.items.append((sku, qty))\n\n"
        "    def total(self, prices):\n        return sum(prices[sku] * qty for sku, qty in self.items)\n"
    ),
    "src/shop/api.py": 'def routes():\n    return ["/cart", "/checkout"]\n',
    "src/shop/config.py": 'TIMEOUT = 30\nCURRENCY = "EUR"\n',
    "README.md": "# shop\n\nA small shop.\n",
}


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _commit(root: Path, files: dict[str, str], message: str) -> None:
    _write(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def _worker(session: str, slug: str, seq: int, worktree: Path, state: str, finished_at: float) -> st.Worker:
    return st.Worker(
        session=session, slug=slug, seq=seq, name=slug, agent="claude", runtime="tmux", branch=f"ecc/{session}/{slug}",
        worktree=str(worktree), task=f"the {slug} task", task_file="", status_file="", handoff_file="",
        launch_command="", agent_launch=1, agent_session=None, state=state, reason=None, launch_token=None,
        command=None, launches=1, pane=None, handle=None, pid=None, pid_start=None, exit_code=0, port_base=None,
        ports=0, fingerprint=None, heartbeat_at=None, started_at=1.0, finished_at=finished_at, handoff_done=1,
        removed=0, updated_at=finished_at,
    )  # fmt: skip


class _Workers:
    """The one thing ``merge.queue`` reads from the store: the session's workers."""

    def __init__(self, workers: list[st.Worker]) -> None:
        self._workers = workers

    def workers(self, session: str) -> list[st.Worker]:
        return list(self._workers)


def _stable(value: Any, root: str) -> Any:
    """``value`` with the temporary folder's path written as ``STABLE_ROOT``."""
    if isinstance(value, str):
        return value.replace(root, STABLE_ROOT)
    if isinstance(value, list):
        return [_stable(v, root) for v in value]
    if isinstance(value, dict):
        return {k: _stable(v, root) for k, v in value.items()}
    return value


# What each worker does in its worktree: (state, finished_at, commits, then uncommitted files).
WORK: dict[str, tuple[str, float, list[dict[str, str]], dict[str, str]]] = {
    "checkout": ("completed", 10.0, [{"src/shop/api.py": 'def routes():\n    return ["/cart", "/checkout", "/pay"]\n'}], {}),
    "api-docs": ("completed", 20.0, [{"src/shop/api.py": 'def routes():\n    return ["/cart", "/checkout", "/docs"]\n'}], {}),
    "currency": ("completed", 30.0, [{"src/shop/config.py": 'TIMEOUT = 30\nCURRENCY = "USD"\n'}], {}),
    "discounts": ("completed", 40.0, [{"src/shop/discounts.py": "def discount(total, code):\n    return total\n"}], {}),
    "search": ("running", 0.0, [{"src/shop/search.py": "def search(q):\n    return []\n"}], {}),
    "legacy": ("failed", 5.0, [{"src/shop/legacy.py": "OLD = True\n"}], {}),
}  # fmt: skip
CART_COMMITS = [
    {
        "src/shop/cart.py": BASE_FILES["src/shop/cart.py"].replace(
            "    def total(self, prices):\n",
            "    def remove(self, sku):\n        self.items = [(s, q) for s, q in self.items if s != sku]\n\n"
            "    def total(self, prices):\n",
        ),
        "tests/test_cart.py": (
            "from shop.cart import Cart\n\n\ndef test_remove():\n    cart = Cart()\n    cart.add('a')\n"
            "    cart.remove('a')\n    assert cart.items == []\n"
        ),
    },
]


def build(tmp: Path) -> dict[str, Any]:
    """The repository and its workers; returns ``diff`` (the cart worker's, as ``DiffData.diffs[i]``),
    ``preview_lines``, ``worktree``, ``entries`` (``QueueData.entries``) and ``conflicts`` (``merge.conflicts``)."""
    repo = make_repo(tmp / "shop")
    _commit(repo, BASE_FILES, "the shop")
    base = git(repo, "rev-parse", "HEAD")
    session = st.Session(name="demo", repo_root=str(repo), coordination_dir=str(tmp / "coord"), base_ref="main",
                         base_commit=base, max_parallel=None, tmux_socket="", plan_file=None, created_at=1.0)  # fmt: skip
    workers = []
    for seq, (slug, (state, finished, commits, _loose)) in enumerate(WORK.items()):
        path = tmp / "wt" / slug
        git(repo, "worktree", "add", "-q", "-b", f"ecc/demo/{slug}", str(path), "main")
        for number, files in enumerate(commits):
            _commit(path, files, f"{slug} {number}")
        workers.append(_worker("demo", slug, seq, path, state, finished))
    cart_path = tmp / "wt" / "cart"
    git(repo, "worktree", "add", "-q", "-b", "ecc/demo/cart", str(cart_path), "main")
    for number, files in enumerate(CART_COMMITS):
        _commit(cart_path, files, f"cart {number}")
    _write(cart_path, {"README.md": BASE_FILES["README.md"] + "\nThe cart can remove items.\n"})
    git(cart_path, "add", "README.md")
    cart = (cart_path / "src/shop/cart.py").read_text()
    (cart_path / "src/shop/cart.py").write_text(cart.replace("qty=1", "qty: int = 1"))
    (cart_path / "NOTES.md").write_text("remember the coupon edge cases\n")
    cart_worker = _worker("demo", "cart", len(workers), cart_path, "completed", 50.0)
    workers.append(cart_worker)
    shutil.rmtree(tmp / "wt" / "legacy")  # deleted by hand: the queue says it is gone
    _commit(repo, {"src/shop/config.py": 'TIMEOUT = 60\nCURRENCY = "GBP"\n'}, "base moves on")  # currency conflicts
    diff = asdict(merge.diff(session, cart_worker))
    entries = merge.queue(_Workers(workers), session)  # type: ignore[arg-type]
    root = str(tmp)
    return {
        "diff": _stable(diff, root),
        "preview_lines": merge.PREVIEW_LINES,
        "worktree": _stable(str(cart_path), root),
        "entries": _stable([e.as_json() for e in entries], root),
        "conflicts": _stable(merge.conflicts(entries), root),
    }
