#!/usr/bin/env python3
"""The octavia-integrator charm: wires Juju to the octavia-integrator binary.

The binary does the work (Keystone, Octavia, Neutron, the relation interfaces) as a systemd
daemon; the charm installs it, renders its settings from the config and `juju trust`, tells it
who leads, hands it each endpoint's relation data and writes its answers back. Every hook does
the same idempotent pass (`_reconcile`), so the daemon's notify command can re-run any hook to
publish answers that became ready later.
"""

from __future__ import annotations

import json
import logging
import re
import shlex
from typing import Any

import ops

import credentials
import settings
from credentials import CredentialError, Credentials
from settings import DaemonPlaces, SettingsError
from workload import CONFIG, FAILURE, OK, Paths, Result, Workload, write_private

logger = logging.getLogger(__name__)

LB_CONSUMERS = "lb-consumers"  # interface loadbalancer
PUBLIC_ADDRESS = "loadbalancer"  # interface public-address (legacy)
# Seconds the hook commands may work in-process when the daemon does not answer.
HOOK_WAIT = "30"
# The binary's messages name its settings keys; the operator of this charm sets options.
SETTING_TO_OPTION = {
    "vip_subnet": "lb-subnet",
    "member_subnet": "member-subnet",
    "floating_network": "lb-floating-network",
    "provider": "provider",
    "flavor": "flavor",
    "availability_zone": "availability-zone",
    "default_algorithm": "lb-method",
}


def in_juju_words(message: str) -> str:
    """A message of the binary with its settings keys named as this charm's options."""
    message = re.sub(
        r"(?:setting )?`\[load_balancer\] (\w+)`",
        lambda m: f"config `{SETTING_TO_OPTION.get(m.group(1), m.group(1))}`",
        message,
    )
    message = message.replace("in [load_balancer]", "in the charm config")
    return message.replace("in [cloud]", "in the credentials (juju trust or the charm config)")


class OctaviaIntegratorCharm(ops.CharmBase):
    """Octavia load balancers for the `loadbalancer` and `public-address` interfaces."""

    _stored = ops.StoredState()

    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        self._stored.set_default(check_failure="", check_due=True)
        self.paths = Paths.from_env(self.charm_dir)
        self.workload = Workload(self.paths)
        observe = framework.observe
        observe(self.on.install, self._on_install)
        observe(self.on.upgrade_charm, self._on_install)
        observe(self.on.config_changed, self._on_config_changed)
        for event in (
            self.on.start,
            self.on.update_status,
            self.on.leader_elected,
            self.on.leader_settings_changed,
        ):
            observe(event, self._on_any)
        for endpoint in (LB_CONSUMERS, PUBLIC_ADDRESS):
            relation = self.on[endpoint]
            for event in (
                relation.relation_created,
                relation.relation_joined,
                relation.relation_changed,
                relation.relation_departed,
            ):
                observe(event, self._on_any)
            observe(relation.relation_broken, self._on_relation_broken)
        observe(self.on.remove, self._on_remove)
        observe(self.on.list_load_balancers_action, self._on_list_load_balancers)
        observe(self.on.gc_action, self._on_gc)
        observe(self.on.refresh_credentials_action, self._on_refresh_credentials)

    # ---- events ----
    def _on_install(self, _: ops.EventBase) -> None:
        """install / upgrade-charm: the binary and unit in place, then a pass (restarting)."""
        self.unit.status = ops.MaintenanceStatus("installing octavia-integrator")
        if not self._install():
            return
        self._stored.check_due = True
        self._reconcile(restart=True)

    def _on_config_changed(self, _: ops.EventBase) -> None:
        """Settings rewritten and reloaded; the cloud preflight runs again."""
        self._stored.check_due = True
        self._reconcile()

    def _on_any(self, _: ops.EventBase) -> None:
        """start, update-status, leadership and relation events: the same idempotent pass."""
        self._reconcile()

    def _on_relation_broken(self, event: ops.RelationBrokenEvent) -> None:
        """The relation's requests are gone: what was built for them is removed."""
        self._reconcile(broken=event.relation.id)

    def _on_remove(self, _: ops.EventBase) -> None:
        """Stops the daemon; deletes what was built only when the operator asked."""
        cleanup = bool(self.config.get("remove-load-balancers-on-remove"))
        if self.workload.installed and self.paths.settings.exists():
            if cleanup and self.unit.is_leader():
                self._delete_everything()
            elif cleanup:
                logger.info("not the leader: the leader deletes the load balancers")
        if self.workload.installed:
            self.workload.stop()

    # ---- actions ----
    def _on_list_load_balancers(self, event: ops.ActionEvent) -> None:
        """What `status --json` shows (no secret is in it)."""
        report, result = self.workload.status()
        if report is None:
            event.fail(f"status failed: {result.first_error()}")
            return
        rows = report.get("requests", [])
        event.set_results(
            {
                "count": len(rows),
                "leader": bool(report.get("leader")),
                "load-balancers": json.dumps(report, indent=2, sort_keys=True),
            }
        )

    def _on_gc(self, event: ops.ActionEvent) -> None:
        """Orphans of this cluster; deleted only with confirm=true."""
        if not self.unit.is_leader():
            event.fail("run gc on the leader unit: only the leader acts on the cloud")
            return
        confirm = bool(event.params.get("confirm", False))
        args = ["gc", "--json"] + (["--yes"] if confirm else [])
        # gc reads the daemon's store, which the running daemon holds: pause it.
        was_running = self.workload.running()
        self.workload.stop()
        try:
            result = self.workload.run(*args)
        finally:
            if was_running:
                self.workload.start()
        if result.code != OK:
            event.fail(f"gc failed: {result.first_error()}")
            return
        orphans = json.loads(result.stdout or "[]")
        event.set_results(
            {
                "dry-run": not confirm,
                "count": len(orphans),
                "orphans": json.dumps(orphans, indent=2, sort_keys=True),
            }
        )

    def _on_refresh_credentials(self, event: ops.ActionEvent) -> None:
        """Credentials read again, settings rewritten and reloaded, check-cloud run."""
        self._stored.check_due = True
        self._reconcile()
        status = self.unit.status
        event.set_results(
            {
                "status": status.name,
                "message": status.message,
                "sources": ", ".join(self._credentials_sources()),
            }
        )
        if isinstance(status, ops.BlockedStatus):
            event.fail(status.message)

    # ---- the pass every hook makes ----
    def _install(self) -> bool:
        """The binary and the unit in place; blocked (and False) when that fails."""
        try:
            self.workload.install()
        except (OSError, ValueError) as e:
            logger.error("install failed: %s", e)
            self.unit.status = ops.BlockedStatus(f"install failed: {e}")
            return False
        return True

    def _reconcile(self, *, broken: int | None = None, restart: bool = False) -> None:
        """Settings → daemon → leadership → relations → status. Idempotent."""
        if not self.workload.installed:
            self.unit.status = ops.MaintenanceStatus("installing octavia-integrator")
            if not self._install():
                return
        try:
            changed = self._write_settings()
        except (CredentialError, SettingsError) as e:
            # No usable settings (e.g. trust revoked): nothing may act with the old ones.
            self._withdraw()
            self.unit.status = ops.BlockedStatus(str(e))
            return
        if not self.workload.running():
            self.workload.start()
        elif restart:
            self.workload.restart()
        elif changed:
            self.workload.reload()
        if changed or self._stored.check_due or self._stored.check_failure:
            self._check_cloud()
        leading = self.unit.is_leader()
        told = self.workload.leader(leading)
        if told.code != OK:
            logger.warning("could not pass leadership to the daemon: %s", told.first_error())
        problems: list[str] = []
        if leading:
            problems = self._publish(broken)
        self._set_status(leading, problems)

    def _gather_credentials(self) -> Credentials:
        """`juju trust`, then `credentials`, then the single options; later values win."""
        trusted = Credentials()
        try:
            spec = self.model.get_cloud_spec()
        except ops.ModelError as e:
            reason = (str(e).splitlines() or ["not trusted"])[0][:120]
            logger.info("no credentials from juju trust (%s)", reason)
        else:
            cred = spec.credential
            trusted = credentials.from_cloud_spec(
                endpoint=spec.endpoint,
                region=spec.region,
                auth_type=cred.auth_type if cred else None,
                attributes=dict(cred.attributes) if cred else {},
                ca_certificates=list(spec.ca_certificates),
                skip_tls_verify=spec.skip_tls_verify,
            )
        option = credentials.from_credentials_option(str(self.config.get("credentials") or ""))
        singles = credentials.from_attributes(
            {k: v for k, v in self.config.items() if k != "credentials"}, "config options"
        )
        merged = credentials.merge(trusted, option, singles)
        merged.check()
        return merged

    def _credentials_sources(self) -> list[str]:
        """Which sources gave credentials (names only)."""
        try:
            return self._gather_credentials().sources
        except CredentialError:
            return []

    def _write_settings(self) -> bool:
        """Renders the settings (0600) and the CA file; returns whether anything changed."""
        creds = self._gather_credentials()
        places = DaemonPlaces(
            socket=str(self.paths.socket),
            state_file=str(self.paths.state_file),
            # juju-exec runs a shell command in this unit's hook context: dispatch it as
            # update-status, which publishes every answer ready by then.
            notify_command=[
                self.paths.juju_exec,
                self.unit.name,
                f"cd {shlex.quote(str(self.charm_dir))} && "
                "JUJU_DISPATCH_PATH=hooks/update-status ./dispatch",
            ],
        )
        cluster = settings.cluster_id(
            str(self.config.get("cluster-id") or ""), self.app.name, self.model.uuid
        )
        ca_file = str(self.paths.ca_file) if creds.ca_pem else None
        text = settings.render(self.config, creds, cluster=cluster, ca_file=ca_file, places=places)
        changed = False
        if creds.ca_pem:
            changed |= write_private(self.paths.ca_file, creds.ca_pem)
        elif self.paths.ca_file.exists():
            self.paths.ca_file.unlink()
            changed = True
        changed |= write_private(self.paths.settings, text)
        return changed

    def _withdraw(self) -> None:
        """No usable settings: the daemon stops and no stale secret stays on disk."""
        if self.workload.installed and self.workload.running():
            self.workload.stop()
        for path in (self.paths.settings, self.paths.ca_file):
            path.unlink(missing_ok=True)
        self._stored.check_due = True

    def _check_cloud(self) -> None:
        """`check-cloud`: the first failing check and its fix, or nothing."""
        checks, result = self.workload.check_cloud()
        self._stored.check_due = False
        if checks is None:
            self._stored.check_failure = in_juju_words(
                f"settings refused: {result.first_error()}"
            )
            return
        failed = [c for c in checks if not c.get("ok")]
        if not failed:
            self._stored.check_failure = ""
            return
        first = failed[0]
        message = f"check-cloud: {first.get('check')}: {first.get('detail')}"
        if first.get("fix"):
            message += f"; fix: {first['fix']}"
        self._stored.check_failure = in_juju_words(message)

    def _publish(self, broken: int | None) -> list[str]:
        """Both endpoints through the binary; its answers written back. Returns problems."""
        problems = []
        port = str(int(self.config.get("lb-port", 443)))
        for endpoint, command in (
            (LB_CONSUMERS, ["lb-consumers"]),
            (PUBLIC_ADDRESS, ["public-address", "--port", port]),
        ):
            relations = [r for r in self.model.relations[endpoint] if r.id != broken]
            envelope = {"relations": [self._envelope(r, endpoint) for r in relations]}
            result = self.workload.run(
                *command, "--wait", HOOK_WAIT, stdin=json.dumps(envelope)
            )
            if result.code not in (OK, FAILURE, CONFIG) or not result.stdout.strip():
                problems.append(f"{endpoint}: {result.first_error()}")
                continue
            if result.code != OK:
                problems.append(f"{endpoint}: {result.first_error()}")
            self._apply(endpoint, relations, json.loads(result.stdout))
        return problems

    def _envelope(self, relation: ops.Relation, endpoint: str) -> dict[str, Any]:
        """One relation as the binary reads it (src/relation/databag.rs)."""
        remote = relation.app
        entry: dict[str, Any] = {
            "id": relation.id,
            "app": remote.name if remote else "",
            "app_data": dict(relation.data[remote]) if remote else {},
            "units": {u.name: dict(relation.data[u]) for u in relation.units},
        }
        if endpoint == LB_CONSUMERS:
            # Our own app databag: the binary unsets responses of removed requests.
            entry["local_app_data"] = dict(relation.data[self.app])
        return entry

    def _apply(self, endpoint: str, relations: list[ops.Relation], output: dict[str, Any]) -> None:
        """Writes the binary's `set` / `unset` into our app (lb-consumers) or unit databag."""
        by_id = {r.id: r for r in relations}
        for rel in output.get("relations", []):
            relation = by_id.get(rel.get("id"))
            if relation is None:
                continue
            bag = relation.data[self.app if endpoint == LB_CONSUMERS else self.unit]
            for key, value in rel.get("set", {}).items():
                bag[key] = value
            for key in rel.get("unset", []):
                bag.pop(key, None)

    def _set_status(self, leading: bool, problems: list[str]) -> None:
        """What an operator can act on: blocked / waiting / active."""
        if self._stored.check_failure:
            self.unit.status = ops.BlockedStatus(self._stored.check_failure)
            return
        if not leading:
            self.unit.status = ops.ActiveStatus("standby: the leader manages the load balancers")
            return
        report, result = self.workload.status()
        if report is None:
            self.unit.status = ops.BlockedStatus(f"status failed: {result.first_error()}")
            return
        if report.get("connect_error"):
            self.unit.status = ops.BlockedStatus(
                "cannot reach the cloud: " + in_juju_words(report["connect_error"])
            )
            return
        # Only current requests: not removals still being carried out, nor load balancers no
        # request owns.
        rows = [r for r in report.get("requests", []) if r.get("kind", "request") == "request"]
        failed = [r for r in rows if (r.get("answer") or "").startswith("error")]
        ready = [r for r in rows if r.get("answer") and r not in failed and r["answer"] != "-"]
        if failed:
            names = ", ".join(f"{r['request']} ({r['answer']})" for r in failed)
            self.unit.status = ops.BlockedStatus(
                f"{len(failed)} of {len(rows)} requests failed: {names}; "
                "see the list-load-balancers action"
            )
        elif problems:
            self.unit.status = ops.BlockedStatus(in_juju_words("; ".join(problems)))
        elif len(ready) < len(rows):
            self.unit.status = ops.WaitingStatus(
                f"{len(ready)} of {len(rows)} load balancers ready"
            )
        elif rows:
            addresses = ", ".join(sorted({r["answer"] for r in ready}))
            plural = "s" if len(rows) > 1 else ""
            self.unit.status = ops.ActiveStatus(
                f"{len(rows)} load balancer{plural} ready: {addresses}"
            )
        else:
            self.unit.status = ops.ActiveStatus("ready; no load balancer requested")

    def _delete_everything(self) -> None:
        """Stops the daemon, forgets its store, and deletes every resource of this cluster."""
        self.workload.stop()
        state = self.paths.state_file
        if state.exists():
            state.rename(state.with_name(state.name + ".removed"))
        result: Result = self.workload.run("gc", "--yes", "--json", timeout=900)
        if result.code != OK:
            logger.error("deleting the load balancers failed: %s", result.first_error())
        else:
            logger.info("deleted %d resources", len(json.loads(result.stdout or "[]")))


if __name__ == "__main__":  # pragma: nocover
    ops.main(OctaviaIntegratorCharm)
