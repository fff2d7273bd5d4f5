"""The machine side of the charm: install the binary and its systemd unit, run its commands.

Every path and program can be moved for tests through environment variables (unset in a real
deployment):

- ``OCTAVIA_INTEGRATOR_CHARM_ROOT``: prefix of every system path (default ``/``);
- ``OCTAVIA_INTEGRATOR_CHARM_BINARY``: the binary to install (default
  ``$CHARM_DIR/bin/octavia-integrator``, where the charm's build part puts it);
- ``OCTAVIA_INTEGRATOR_CHARM_UNIT``: the systemd unit template (default
  ``$CHARM_DIR/systemd/octavia-integrator.service``, else ``deploy/systemd`` beside the charm
  source);
- ``OCTAVIA_INTEGRATOR_CHARM_SYSTEMCTL``: the ``systemctl`` program;
- ``OCTAVIA_INTEGRATOR_CHARM_JUJU_EXEC``: the program the daemon's notify command runs.

Secrets never reach a process argument or a log: the binary reads them from the settings file.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SERVICE = "octavia-integrator"
UNIT_BINARY = "/usr/local/bin/octavia-integrator"
UNIT_SETTINGS = "/etc/octavia-integrator/settings.toml"
# Exit codes of the binary (docs/cli.md).
OK, FAILURE, USAGE, CONFIG, UNAVAILABLE = 0, 1, 2, 3, 4


@dataclasses.dataclass(frozen=True)
class Paths:
    """Where everything lives on the machine."""

    source_binary: Path
    unit_template: Path
    binary: Path
    settings: Path
    ca_file: Path
    unit_file: Path
    state_file: Path
    socket: Path
    systemctl: str
    juju_exec: str

    @classmethod
    def from_env(cls, charm_dir: Path) -> "Paths":
        """The real paths, or those the test seams name."""
        env = os.environ
        root = Path(env.get("OCTAVIA_INTEGRATOR_CHARM_ROOT", "/"))

        def under(path: str) -> Path:
            return root / path.lstrip("/")

        template = env.get("OCTAVIA_INTEGRATOR_CHARM_UNIT")
        if template:
            unit_template = Path(template)
        elif (charm_dir / "systemd" / f"{SERVICE}.service").exists():
            unit_template = charm_dir / "systemd" / f"{SERVICE}.service"
        else:
            unit_template = charm_dir.parent / "systemd" / f"{SERVICE}.service"
        return cls(
            source_binary=Path(
                env.get("OCTAVIA_INTEGRATOR_CHARM_BINARY", charm_dir / "bin" / SERVICE)
            ),
            unit_template=unit_template,
            binary=under(UNIT_BINARY),
            settings=under(UNIT_SETTINGS),
            ca_file=under("/etc/octavia-integrator/endpoint-ca.pem"),
            unit_file=under(f"/etc/systemd/system/{SERVICE}.service"),
            state_file=under("/var/lib/octavia-integrator/state.json"),
            socket=under("/run/octavia-integrator/octavia-integrator.sock"),
            systemctl=env.get("OCTAVIA_INTEGRATOR_CHARM_SYSTEMCTL", "systemctl"),
            juju_exec=env.get("OCTAVIA_INTEGRATOR_CHARM_JUJU_EXEC", "/usr/bin/juju-exec"),
        )


@dataclasses.dataclass
class Result:
    """One run of the binary."""

    code: int
    stdout: str
    stderr: str

    def first_error(self) -> str:
        """The first `error:` line of standard error (or its first line)."""
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        for line in lines:
            if line.startswith("error:"):
                return line[len("error:") :].strip()
        return lines[0] if lines else f"exit code {self.code}"


def write_private(path: Path, text: str) -> bool:
    """Writes `text` with mode 0600 (atomic replace); returns whether the content changed."""
    if path.exists() and path.read_text() == text:
        os.chmod(path, 0o600)
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


class Workload:
    """The installed binary and its daemon."""

    def __init__(self, paths: Paths):
        self.paths = paths

    # -- install --
    def install(self) -> None:
        """Copies the binary into place and writes the systemd unit (both atomically)."""
        src = self.paths.source_binary
        if not src.exists():
            raise FileNotFoundError(f"the charm carries no binary at {src}")
        dst = self.paths.binary
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.new")
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o755)
        os.replace(tmp, dst)
        unit = self.render_unit()
        self.paths.unit_file.parent.mkdir(parents=True, exist_ok=True)
        self.paths.unit_file.write_text(unit)
        os.chmod(self.paths.unit_file, 0o644)
        self.systemctl("daemon-reload")

    def render_unit(self) -> str:
        """deploy/systemd/octavia-integrator.service with this machine's paths."""
        text = self.paths.unit_template.read_text()
        for needle in (UNIT_BINARY, UNIT_SETTINGS):
            if needle not in text:
                raise ValueError(f"{self.paths.unit_template} no longer names {needle}")
        return text.replace(UNIT_BINARY, str(self.paths.binary)).replace(
            UNIT_SETTINGS, str(self.paths.settings)
        )

    @property
    def installed(self) -> bool:
        """Whether the binary and the unit are in place."""
        return self.paths.binary.exists() and self.paths.unit_file.exists()

    # -- the service --
    def systemctl(self, *args: str) -> int:
        """Runs systemctl; returns its exit code (logged when not 0)."""
        proc = subprocess.run(
            [self.paths.systemctl, *args], capture_output=True, text=True, timeout=120
        )
        if proc.returncode != 0 and args[0] != "is-active":
            logger.warning("systemctl %s: exit %d: %s", " ".join(args), proc.returncode,
                           proc.stderr.strip())
        return proc.returncode

    def running(self) -> bool:
        """Whether systemd says the daemon runs."""
        return self.systemctl("is-active", "--quiet", SERVICE) == 0

    def start(self) -> None:
        """Enables and starts the daemon, then waits (bounded) for its socket."""
        self.systemctl("enable", "--now", SERVICE)
        self.wait_for_socket()

    def restart(self) -> None:
        """Restarts the daemon (a new binary), then waits for its socket."""
        self.systemctl("restart", SERVICE)
        self.wait_for_socket()

    def reload(self) -> None:
        """SIGHUP: the daemon re-reads its settings."""
        self.systemctl("reload", SERVICE)

    def stop(self) -> None:
        """Stops and disables the daemon."""
        self.systemctl("disable", "--now", SERVICE)

    def wait_for_socket(self, budget: float = 20.0) -> bool:
        """Polls for the daemon's socket, so the next command talks to the daemon."""
        deadline = time.monotonic() + budget
        while time.monotonic() < deadline:
            if self.paths.socket.exists():
                return True
            time.sleep(0.1)
        logger.warning("the daemon's socket %s did not appear", self.paths.socket)
        return False

    # -- the binary's commands --
    def run(self, *args: str, stdin: str | None = None, timeout: float = 300) -> Result:
        """Runs `octavia-integrator --config SETTINGS ARGS...`."""
        proc = subprocess.run(
            [str(self.paths.binary), "--config", str(self.paths.settings), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={k: v for k, v in os.environ.items() if not k.startswith("OS_")},
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def leader(self, leading: bool) -> Result:
        """Tells the daemon (or its store) whether this unit leads."""
        return self.run("leader", "true" if leading else "false")

    def check_cloud(self) -> tuple[list[dict[str, Any]] | None, Result]:
        """`check-cloud --json`: the checks (None when the command could not run)."""
        result = self.run("check-cloud", "--json")
        try:
            checks = json.loads(result.stdout) if result.stdout.strip() else None
        except json.JSONDecodeError:
            checks = None
        return (checks if isinstance(checks, list) else None), result

    def status(self) -> tuple[dict[str, Any] | None, Result]:
        """`status --json`: the report (None when the command failed)."""
        result = self.run("status", "--json")
        try:
            report = json.loads(result.stdout) if result.code == OK else None
        except json.JSONDecodeError:
            report = None
        return (report if isinstance(report, dict) else None), result
