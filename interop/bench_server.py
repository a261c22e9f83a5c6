#!/usr/bin/env python3
"""Message sends per second and latency: `lostfound serve` beside Synapse.

One load generator drives both servers the same way, one server at a time,
each on 127.0.0.1 only with a fresh data directory:

1. start the server (ours: the release binary; Synapse: on SQLite, configured
   by local_synapse.py) and wait for GET /_matrix/client/versions;
2. register 32 users through the m.login.dummy interactive-auth flow;
3. for each configuration (1 client, then 32 concurrent clients): one user
   creates a public room, the others join it, a few warm-up sends, then every
   client loops on PUT /rooms/{id}/send/m.room.message/{txnId} with unique
   transaction IDs until the configuration's budget is spent: 2,000 sends or
   20 seconds, whichever comes first. Each request's latency is recorded;
4. reads the server's VmRSS and VmHWM from /proc/<pid>/status, and its CPU
   time from /proc/<pid>/stat, then stops it.

Both servers log at warning level during the run (RUST_LOG=warn; Synapse's
root logger at WARNING), so neither pays for a log line per request.

The table has: server, clients, sends (successful), errors, seconds,
sends/s, p50 and p99 latency in ms, VmRSS after the configuration and the
peak (VmHWM) in MiB, the server's CPU milliseconds per send, and the load
generator's own CPU use (near 100% means the generator, not the server, was
the limit). Figures, not a test: nothing is asserted and the exit status is
0 unless a server could not be started or the setup failed.

    bash interop/bench-server.sh                   # what `just bench-server` runs
    .venv/bin/python interop/bench_server.py --help
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import aiohttp
except ImportError as error:  # pragma: no cover - depends on the environment
    print(f"bench_server: cannot import aiohttp ({error}); run it through interop/bench-server.sh, "
          "or install interop/requirements-nio.txt into the venv", file=sys.stderr)
    sys.exit(2)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import local_synapse  # noqa: E402  (beside this file)

REPO_ROOT = Path(__file__).resolve().parent.parent
CLIENT_API = "/_matrix/client/v3"
PASSWORD = "bench password"
WARM_UP_SENDS = 20
SETUP_TIMEOUT = aiohttp.ClientTimeout(total=60)


class SetupFailed(Exception):
    """A request the bench needs before measuring did not succeed."""


# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------

def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def die_with_parent() -> None:
    """In the child, before exec: get SIGKILL if the bench itself dies."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass
class Server:
    """One running homeserver process."""

    name: str
    url: str
    process: subprocess.Popen
    logs: list[Path]
    # Holds the process ID while it runs, for bench-server.sh's trap.
    pidfile: Path

    def status(self) -> dict[str, int]:
        """VmRSS and VmHWM in KiB, from /proc/<pid>/status."""
        fields = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
        return fields

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far."""
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        after_name = stat[stat.rindex(")") + 2:].split()
        ticks = int(after_name[11]) + int(after_name[12])  # utime, stime (fields 14, 15)
        return ticks / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's logs, for error messages."""
        tails = []
        for log in self.logs:
            try:
                tail = log.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                tail = ["(none)"]
            tails.append(f"---- end of {log} ----\n" + "\n".join(tail))
        return "\n".join(tails)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.pidfile.unlink(missing_ok=True)


def start_lostfound(binary: Path, workdir: Path) -> Server:
    """`lostfound serve` on a free port of 127.0.0.1."""
    port = free_port()
    data = workdir / "lostfound"
    data.mkdir(parents=True, exist_ok=True)
    log = workdir / "lostfound.log"
    environment = dict(os.environ, RUST_LOG="warn")
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(binary), "serve", "--name", f"localhost:{port}", "--bind", "127.0.0.1", "--port", str(port),
             "--data", str(data)],
            stdout=out, stderr=subprocess.STDOUT, env=environment, preexec_fn=die_with_parent,
        )
    pidfile = workdir / "lostfound.pid"
    pidfile.write_text(str(process.pid))
    return Server("lostfound", f"http://127.0.0.1:{port}", process, [log], pidfile)


def start_synapse(workdir: Path) -> Server:
    """Synapse on SQLite, offline, on a free port of 127.0.0.1."""
    port = free_port()
    directory = workdir / "synapse"
    config = local_synapse.prepare(directory, port, log_level="WARNING")
    log = workdir / "synapse.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(local_synapse.command(config), cwd=directory,
                                   stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
    pidfile = workdir / "synapse.pid"
    pidfile.write_text(str(process.pid))
    return Server("synapse", f"http://127.0.0.1:{port}", process, [log, directory / "homeserver.log"], pidfile)


async def wait_until_ready(server: Server, seconds: float) -> None:
    """Poll GET /_matrix/client/versions until it answers 200."""
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise SetupFailed(f"{server.name} exited with status {server.process.returncode} before answering:\n"
                                  + server.log_tail())
            try:
                async with session.get(server.url + "/_matrix/client/versions") as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.3)
    raise SetupFailed(f"{server.name} did not answer /_matrix/client/versions within {seconds:.0f} s:\n"
                      + server.log_tail())


# ---------------------------------------------------------------------------
# Client-side setup
# ---------------------------------------------------------------------------

async def call(session: aiohttp.ClientSession, method: str, url: str, body: Any = None,
               token: str | None = None, expect: tuple[int, ...] = (200,)) -> Any:
    """One JSON request; fail the setup unless its status is expected."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with session.request(method, url, json=body, headers=headers, timeout=SETUP_TIMEOUT) as response:
        text = await response.text()
        if response.status not in expect:
            raise SetupFailed(f"{method} {url} -> HTTP {response.status}: {text[:500]}")
        return json.loads(text) if text else {}


async def register(session: aiohttp.ClientSession, base: str, username: str) -> str:
    """Register through the m.login.dummy flow (401 + session, then dummy); return the token."""
    url = f"{base}{CLIENT_API}/register"
    challenge = await call(session, "POST", url, {"username": username, "password": PASSWORD}, expect=(401,))
    auth = {"type": "m.login.dummy"}
    if "session" in challenge:
        auth["session"] = challenge["session"]
    done = await call(session, "POST", url, {"username": username, "password": PASSWORD, "auth": auth})
    return done["access_token"]


async def room_with_members(session: aiohttp.ClientSession, base: str, tokens: list[str]) -> str:
    """A public room created by the first token's user and joined by the others."""
    created = await call(session, "POST", f"{base}{CLIENT_API}/createRoom",
                         {"preset": "public_chat", "name": "bench"}, tokens[0])
    room = created["room_id"]
    for token in tokens[1:]:
        await call(session, "POST", f"{base}{CLIENT_API}/rooms/{room}/join", {}, token)
    return room


# ---------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------

@dataclass
class Result:
    """One configuration's figures."""

    server: str
    clients: int
    sends: int
    errors: int
    first_error: str
    seconds: float
    latencies_ms: list[float]
    rss_kib: int
    hwm_kib: int
    server_cpu_s: float
    generator_cpu_s: float

    def percentile(self, fraction: float) -> float:
        """Nearest-rank percentile of the latencies."""
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return math.nan
        return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


async def send_loop(session: aiohttp.ClientSession, base: str, room: str, tokens: list[str],
                    budget: int, seconds: float, tag: str) -> tuple[int, int, str, float, list[float]]:
    """Every token sends until budget sends were made or seconds passed.

    Returns (successes, errors, first error, elapsed seconds, latencies in ms).
    """
    remaining = budget
    latencies: list[float] = []
    errors = 0
    first_error = ""
    started = time.perf_counter()
    deadline = started + seconds

    async def client(number: int, token: str) -> None:
        nonlocal remaining, errors, first_error
        headers = {"Authorization": f"Bearer {token}"}
        sent = 0
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            sent += 1
            url = f"{base}{CLIENT_API}/rooms/{room}/send/m.room.message/{tag}-{number}-{sent}"
            body = {"msgtype": "m.text", "body": f"bench message {sent} from client {number}"}
            before = time.perf_counter()
            try:
                async with session.put(url, json=body, headers=headers) as response:
                    text = await response.read()
                    ok = response.status == 200 and b"event_id" in text
                    status = response.status
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                ok, status, text = False, 0, repr(error).encode()
            if ok:
                latencies.append((time.perf_counter() - before) * 1000)
            else:
                errors += 1
                first_error = first_error or f"HTTP {status}: {text[:300].decode('utf-8', 'replace')}"

    await asyncio.gather(*(client(number, token) for number, token in enumerate(tokens)))
    return len(latencies), errors, first_error, time.perf_counter() - started, latencies


async def bench_server(server: Server, client_counts: list[int], budget: int, seconds: float) -> list[Result]:
    """All configurations against one running server."""
    results = []
    connector = aiohttp.TCPConnector(limit=max(client_counts) + 8)
    async with aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=30)) as session:
        tokens = []
        for number in range(max(client_counts)):
            tokens.append(await register(session, server.url, f"bench{number}"))
        print(f"  {server.name}: registered {len(tokens)} users, VmRSS now {server.status().get('VmRSS', 0) / 1024:.1f} MiB",
              flush=True)
        for count in client_counts:
            room = await room_with_members(session, server.url, tokens[:count])
            tag = f"c{count}-{time.time_ns()}"
            await send_loop(session, server.url, room, tokens[:count], WARM_UP_SENDS, seconds, tag + "-warm")
            cpu_before, generator_before = server.cpu_seconds(), time.process_time()
            sends, errors, first_error, elapsed, latencies = await send_loop(
                session, server.url, room, tokens[:count], budget, seconds, tag)
            memory = server.status()
            results.append(Result(server.name, count, sends, errors, first_error, elapsed, latencies,
                                  memory.get("VmRSS", 0), memory.get("VmHWM", 0),
                                  server.cpu_seconds() - cpu_before, time.process_time() - generator_before))
            print(f"  {server.name}, {count} client(s): {sends} sends in {elapsed:.1f} s"
                  + (f", {errors} errors (first: {first_error})" if errors else ""), flush=True)
    return results


def table(results: list[Result]) -> str:
    """The results as a Markdown table."""
    header = ("| server | clients | sends | errors | seconds | sends/s | p50 ms | p99 ms | RSS MiB | peak MiB "
              "| server CPU ms/send | generator CPU |")
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for result in results:
        rate = result.sends / result.seconds if result.seconds else math.nan
        cpu_per_send = result.server_cpu_s * 1000 / result.sends if result.sends else math.nan
        lines.append(
            f"| {result.server} | {result.clients} | {result.sends} | {result.errors} | {result.seconds:.2f} "
            f"| {rate:,.0f} | {result.percentile(0.50):.2f} | {result.percentile(0.99):.2f} "
            f"| {result.rss_kib / 1024:.1f} | {result.hwm_kib / 1024:.1f} | {cpu_per_send:.2f} "
            f"| {100 * result.generator_cpu_s / result.seconds:.0f}% |")
    return "\n".join(lines)


def describe_machine() -> str:
    """Date, load, cores: the context every figure needs."""
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    return (f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}; {os.cpu_count()} cores; {platform.platform()}; "
            f"Python {platform.python_version()}\nuptime: {uptime}")


def version(package: str) -> str:
    """An installed distribution's version, or '?'."""
    try:
        from importlib.metadata import version as installed
        return installed(package)
    except Exception:
        return "?"


async def run(options: argparse.Namespace) -> int:
    """Bench each chosen server in turn; print the table."""
    client_counts = [int(count) for count in options.clients.split(",")]
    results: list[Result] = []
    print(describe_machine())
    print(f"budget per configuration: {options.sends} sends or {options.seconds:.0f} s, whichever first; "
          f"{WARM_UP_SENDS} warm-up sends first; clients {client_counts}; "
          f"Synapse {version('matrix-synapse')} on SQLite; aiohttp {version('aiohttp')}", flush=True)
    for name in options.servers.split(","):
        if name == "lostfound":
            server = start_lostfound(options.lostfound_bin, options.workdir)
        elif name == "synapse":
            server = start_synapse(options.workdir)
        else:
            raise SystemExit(f"unknown server {name!r} (lostfound, synapse)")
        try:
            await wait_until_ready(server, options.start_seconds)
            memory = server.status()
            print(f"{name} ready at {server.url} (pid {server.process.pid}, VmRSS {memory.get('VmRSS', 0) / 1024:.1f} MiB "
                  "at start)", flush=True)
            results += await bench_server(server, client_counts, options.sends, options.seconds)
        except SetupFailed as error:
            print(f"bench_server: {name}: {error}", file=sys.stderr)
            if server.process.poll() is None:
                print(server.log_tail(), file=sys.stderr)
            return 2
        finally:
            server.stop()
    print()
    print(table(results))
    return 0


def interrupted(_signal: int, _frame: Any) -> None:
    """SIGTERM handler: unwind as Ctrl-C does."""
    raise KeyboardInterrupt


def main() -> int:
    """Options, signal handling, and cleanup of the work directory."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default="lostfound,synapse", help="which, in order (default lostfound,synapse)")
    parser.add_argument("--clients", default="1,32", help="concurrent clients per configuration (default 1,32)")
    parser.add_argument("--sends", type=int, default=2000, help="sends per configuration at most (default 2000)")
    parser.add_argument("--seconds", type=float, default=20, help="seconds per configuration at most (default 20)")
    parser.add_argument("--start-seconds", type=float, default=60, help="wait this long for a server to start")
    parser.add_argument("--lostfound-bin", type=Path, default=REPO_ROOT / "target/release/lostfound")
    parser.add_argument("--workdir", type=Path, help="data directories and logs (default: a new temporary one, removed)")
    options = parser.parse_args()
    if options.sends < 1 or options.seconds <= 0:
        parser.error("--sends and --seconds must be positive")
    # SIGTERM (the shell's trap) unwinds like Ctrl-C, so every server is stopped.
    signal.signal(signal.SIGTERM, interrupted)
    temporary = None
    if options.workdir is None:
        temporary = tempfile.TemporaryDirectory(prefix="lostfound-bench.")
        options.workdir = Path(temporary.name)
    options.workdir.mkdir(parents=True, exist_ok=True)
    try:
        return asyncio.run(run(options))
    except KeyboardInterrupt:
        print("bench_server: interrupted", file=sys.stderr)
        return 130
    finally:
        if temporary is not None:
            temporary.cleanup()


if __name__ == "__main__":
    sys.exit(main())
