#!/usr/bin/env python3
"""Set up a throwaway Synapse on SQLite, on 127.0.0.1 only, that runs offline.

Used by bench_server.py (as a module) and by `run-nio.sh --synapse` (as a
command), so that our server and Synapse are measured and checked the same
way. Synapse comes from the venv made from interop/requirements.txt.

    python interop/local_synapse.py --dir DIR --port PORT [--log-level WARNING]

generates DIR/homeserver.yaml (server name `localhost`) if it is not there,
adjusts it as below, and then runs Synapse in the foreground (exec), so the
caller's process ID is Synapse's own. What is changed from the generated file:

- one HTTP listener, client API only, bound to 127.0.0.1 (never ::1 or a
  public address), `tls: false`, `x_forwarded: false`;
- open registration without email (`enable_registration`,
  `enable_registration_without_verification`): the m.login.dummy flow;
- rate limits far above anything the bench or the smoke test sends;
- no federation and no key servers (`federation_domain_whitelist: []`,
  `trusted_key_servers: []`), no URL previews, no presence, no stats: it
  never reaches out to the network;
- the log level (INFO by default; the bench uses WARNING) and log file in DIR.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import yaml  # PyYAML, a dependency of matrix-synapse

SERVER_NAME = "localhost"

# Every rate limit Synapse has that a bench or smoke test could hit.
GENEROUS = {"per_second": 100000, "burst_count": 1000000}
RATE_LIMITS = {
    "rc_message": GENEROUS,
    "rc_registration": GENEROUS,
    "rc_registration_token_validity": GENEROUS,
    "rc_login": {"address": GENEROUS, "account": GENEROUS, "failed_attempts": GENEROUS},
    "rc_joins": {"local": GENEROUS, "remote": GENEROUS},
    "rc_joins_per_room": GENEROUS,
    "rc_invites": {"per_room": GENEROUS, "per_user": GENEROUS, "per_issuer": GENEROUS},
    "rc_room_creation": GENEROUS,
    "rc_3pid_validation": GENEROUS,
    "rc_media_upload": {"per_second": 1_000_000_000, "burst_count": 10_000_000_000},
    "rc_presence": {"per_user": GENEROUS},
    "rc_delayed_event_mgmt": GENEROUS,
}


def prepare(directory: Path, port: int, log_level: str = "INFO") -> Path:
    """Write DIR/homeserver.yaml for an offline Synapse on 127.0.0.1:port; return its path."""
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / "homeserver.yaml"
    if not config_path.exists():
        subprocess.run(
            [sys.executable, "-m", "synapse.app.homeserver", "--server-name", SERVER_NAME,
             "--config-path", str(config_path), "--data-directory", str(directory),
             "--generate-config", "--report-stats=no"],
            check=True, cwd=directory, stdout=subprocess.DEVNULL,
        )
    config = yaml.safe_load(config_path.read_text())
    config.update({
        "listeners": [{
            "port": port,
            "bind_addresses": ["127.0.0.1"],
            "type": "http",
            "tls": False,
            "x_forwarded": False,
            "resources": [{"names": ["client"], "compress": False}],
        }],
        "database": {"name": "sqlite3", "args": {"database": str(directory / "homeserver.db")}},
        "media_store_path": str(directory / "media_store"),
        "pid_file": str(directory / "homeserver.pid"),
        "enable_registration": True,
        "enable_registration_without_verification": True,
        "report_stats": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "url_preview_enabled": False,
        "presence": {"enabled": False},
        "enable_metrics": False,
        "user_directory": {"enabled": False},
        **RATE_LIMITS,
    })
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))

    log_path = Path(config["log_config"])
    log_config = yaml.safe_load(log_path.read_text())
    log_config["root"]["level"] = log_level
    log_config["loggers"]["synapse.storage.SQL"]["level"] = log_level
    log_config["handlers"]["file"]["filename"] = str(directory / "homeserver.log")
    log_path.write_text(yaml.safe_dump(log_config, sort_keys=False))
    return config_path


def command(config_path: Path) -> list[str]:
    """The command line that runs Synapse in the foreground with this config."""
    return [sys.executable, "-m", "synapse.app.homeserver", "-c", str(config_path)]


def main() -> int:
    """Prepare the config, then become Synapse."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", required=True, type=Path, help="data and config directory")
    parser.add_argument("--port", required=True, type=int, help="port on 127.0.0.1")
    parser.add_argument("--log-level", default="INFO", help="Synapse's log level (default INFO)")
    options = parser.parse_args()
    config_path = prepare(options.dir, options.port, options.log_level)
    argv = command(config_path)
    os.chdir(options.dir)
    os.execv(argv[0], argv)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
