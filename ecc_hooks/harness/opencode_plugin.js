// ecc-hooks: OpenCode plugin (written by `ecc-hooks install --harness opencode` or given to a runtime worker).
// It hands OpenCode's hooks and bus events, one small JSON payload each, to the ecc-hooks hook command (stdin),
// which records them in the ecc-hooks journal (ecc_hooks/harness/opencode.py turns them into Claude-shaped
// payloads). It never blocks OpenCode's work: each payload goes to a detached child, one at a time so the journal
// keeps OpenCode's order; nothing is awaited (only its exit waits for the last hooks), nothing printed, every error
// swallowed. Replaced on reinstall.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";

const HOOK = []; // ecc-hooks: hook argv (filled in at install)
const TEXT_CAP = 4000; // characters kept of any one string: the journal keeps summaries only
const ITEMS_CAP = 50; // entries kept of any one list or object
const DEPTH_CAP = 6;
const CHILD_TIMEOUT_MS = 15000; // a hook that hangs stops holding the queue back after this
const GUARD = Symbol.for("ecc-hooks.opencode");

// One copy per process: the user's installed plugin and a runtime worker's both load; the first one answers.
const first = !globalThis[GUARD];
globalThis[GUARD] = true;

function cap(value, depth = 0) {
  if (typeof value === "string") return value.length > TEXT_CAP ? value.slice(0, TEXT_CAP) : value;
  if (value === null || typeof value !== "object") return typeof value === "function" ? undefined : value;
  if (depth >= DEPTH_CAP) return undefined;
  if (Array.isArray(value)) return value.slice(0, ITEMS_CAP).map((item) => cap(item, depth + 1));
  const out = {};
  for (const key of Object.keys(value).slice(0, ITEMS_CAP)) out[key] = cap(value[key], depth + 1);
  return out;
}

// Where OpenCode keeps its database (its own rule: $OPENCODE_DB, else <XDG data>/opencode/opencode.db).
function databasePath() {
  const data = process.env.XDG_DATA_HOME || join(homedir(), ".local", "share");
  const named = process.env.OPENCODE_DB;
  if (named) return named === ":memory:" ? undefined : isAbsolute(named) ? named : join(data, "opencode", named);
  return join(data, "opencode", "opencode.db");
}

const queue = [];
let running; // the child handling the payload before the queued ones

// The payload reaches the child through a file already unlinked: written whole before the child starts.
function start(payload) {
  let dir;
  try {
    dir = mkdtempSync(join(tmpdir(), "ecc-oc-"));
    const file = join(dir, "payload.json");
    writeFileSync(file, JSON.stringify(payload), { mode: 0o600 });
    const fd = openSync(file, "r");
    rmSync(dir, { recursive: true, force: true });
    dir = undefined;
    try {
      const child = spawn(HOOK[0], HOOK.slice(1), { stdio: [fd, "ignore", "ignore"], detached: true });
      child.unref();
      return child;
    } finally {
      closeSync(fd);
    }
  } catch {
    if (dir) rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

function pump() {
  if (running || !queue.length) return;
  const child = start(queue.shift());
  if (!child) return pump();
  running = child;
  let done = false;
  const next = () => {
    if (done) return;
    done = true;
    running = undefined;
    pump();
  };
  child.once("exit", next);
  child.once("error", next);
  const timer = setTimeout(next, CHILD_TIMEOUT_MS);
  timer.unref?.();
}

function send(payload) {
  if (!first || !HOOK.length) return;
  try {
    queue.push(cap(payload));
    pump();
  } catch {}
}

// OpenCode exiting: the hook still running and the payloads still queued are handed over before it is gone, as
// Claude Code's hooks are, so a finished run's last events (its Stop, its StopFailure) are on disk when it has
// exited, for whoever watches it exit. Bounded: EXIT_WAIT_MS in all, typically a hook's ~0.1 s.
const EXIT_WAIT_MS = 5000;

// Whether a child has exited, from Linux's /proc (it is not reaped while the exiting loop blocks: a zombie);
// elsewhere nothing says so, and it is not waited for.
function gone(pid) {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ").pop()[0];
    return state === "Z" || state === "X";
  } catch {
    return true;
  }
}

process.once("exit", () => {
  try {
    const deadline = Date.now() + EXIT_WAIT_MS;
    const nap = new Int32Array(new SharedArrayBuffer(4));
    while (running && running.exitCode === null && !gone(running.pid) && Date.now() < deadline) Atomics.wait(nap, 0, 0, 10);
    while (queue.length && Date.now() < deadline) {
      const input = JSON.stringify(queue.shift());
      spawnSync(HOOK[0], HOOK.slice(1), { input, stdio: ["pipe", "ignore", "ignore"], timeout: deadline - Date.now() });
    }
  } catch {}
});

export const EccHooks = async ({ directory }) => {
  if (!first) return {};
  const base = { cwd: directory, transcript_path: databasePath() };
  const parents = new Map(); // child session id -> parent session id (subagents)
  const replying = new Map(); // session id -> its latest assistant message (a text part names only its message)
  const lastText = new Map(); // session id -> the last text the assistant wrote
  const asked = new Map(); // permission request id -> what it asked for (a reply names only the request)
  const busy = new Set(); // sessions in a turn: OpenCode goes idle more than once per turn, and after an error
  const rootOf = (id) => {
    let root;
    for (let hops = 0; parents.has(id) && hops < 16; hops++) root = id = parents.get(id);
    return root;
  };
  const emit = (event, sessionID, fields) => {
    if (typeof sessionID !== "string" || !sessionID) return;
    send({ ...base, ...fields, event, session_id: sessionID, parent_id: rootOf(sessionID) });
  };
  const onEvent = (event) => {
    const props = (event && event.properties) || {};
    switch (event && event.type) {
      case "session.created": {
        const info = props.info || {};
        if (info.parentID) parents.set(info.id, info.parentID);
        return emit("session.created", info.id, { title: info.title, directory: info.directory });
      }
      case "message.updated": {
        const info = props.info || {};
        if (info.role === "assistant") replying.set(info.sessionID, info.id);
        return;
      }
      case "message.part.updated": {
        const part = props.part || {};
        if (part.type === "text" && typeof part.text === "string" && replying.get(part.sessionID) === part.messageID)
          lastText.set(part.sessionID, part.text);
        const state = part.state || {};
        if (part.type === "tool" && state.status === "error")
          emit("tool.error", part.sessionID, { tool: part.tool, call_id: part.callID, args: state.input, error: state.error });
        return;
      }
      case "permission.asked": {
        const request = {
          request_id: props.id,
          permission: props.permission,
          patterns: props.patterns,
          metadata: props.metadata,
          call_id: props.tool && props.tool.callID,
        };
        if (asked.size < 1000) asked.set(props.id, request);
        return emit("permission.asked", props.sessionID, request);
      }
      case "permission.replied": {
        const id = props.requestID ?? props.permissionID;
        const request = asked.get(id) || { request_id: id };
        asked.delete(id);
        return emit("permission.replied", props.sessionID, { ...request, reply: props.reply ?? props.response });
      }
      case "session.idle": {
        const text = lastText.get(props.sessionID);
        lastText.delete(props.sessionID);
        replying.delete(props.sessionID);
        if (!busy.delete(props.sessionID)) return;
        return emit("session.idle", props.sessionID, { last_message: text });
      }
      case "session.error": {
        const error = props.error || {};
        busy.delete(props.sessionID);
        const message = (error.data && error.data.message) || error.message;
        return emit("session.error", props.sessionID, { error: { name: error.name, message } });
      }
      case "session.compacted":
        return emit("session.compacted", props.sessionID, {});
      default:
        return;
    }
  };
  return {
    event: async ({ event }) => {
      try {
        onEvent(event);
      } catch {}
    },
    "chat.message": async (input, output) => {
      try {
        const message = (output && output.message) || {};
        const parts = ((output && output.parts) || []).filter((p) => p && p.type === "text" && !p.synthetic);
        const model = message.model || input.model || {};
        busy.add(input.sessionID);
        emit("chat.message", input.sessionID, {
          prompt: parts.map((p) => p.text).join("\n"),
          agent: input.agent ?? message.agent,
          model: model.providerID && model.modelID ? `${model.providerID}/${model.modelID}` : undefined,
        });
      } catch {}
    },
    "tool.execute.before": async (input, output) => {
      try {
        busy.add(input.sessionID);
        emit("tool.execute.before", input.sessionID, { tool: input.tool, call_id: input.callID, args: output && output.args });
      } catch {}
    },
    "tool.execute.after": async (input, output) => {
      try {
        const result = output || {};
        emit("tool.execute.after", input.sessionID, {
          tool: input.tool,
          call_id: input.callID,
          args: input.args,
          title: result.title,
          output: result.output,
          metadata: result.metadata,
        });
      } catch {}
    },
  };
};
