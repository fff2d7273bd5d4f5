"""The charm's lifecycle in ops' state-transition harness, with the real binary as a daemon on
the simulated cloud, and kubernetes-control-plane speaking through the real
`loadbalancer-interface` library: install, config, relations, the daemon's notify command,
leader change, relation broken, upgrade, actions, remove."""

import dataclasses
import ipaddress
import json

import pytest
from scenario.state import _Event

from charm_fixtures import cloud, machine, requirer, slow_cloud  # noqa: F401 (fixtures)
from charm_support import (
    APP, KCP, UNIT_ADDRESSES, Machine, context, kcp_relation, refresh, testing, v1, wait_until,
)

EXT, INT = "loadbalancer-external", "loadbalancer-internal"
EXT_NAME, INT_NAME = "api-server-external", "api-server-internal"


def base_config(cloud, **extra):
    return {**cloud.auth, **cloud.network, "metrics-address": "off", **extra}


def cluster_of(state) -> str:
    return f"{APP}-{state.model.uuid.split('-')[-1][:12]}"


def send(requirer, state, rel, endpoint):
    """Juju carries the requirer's app databag to us."""
    return refresh(state, rel, remote_app_data=requirer.app_data(endpoint))


def deliver(requirer, state, rel, endpoint):
    """Juju carries our app databag to the requirer."""
    requirer.receive(endpoint, dict(state.get_relation(rel.id).local_app_data))


def notified(machine, names):
    """The daemon ran its notify command (juju-exec) for every named request."""
    seen = {n["request"].split(" ")[0].split("/", 1)[1] for n in machine.notifications()
            if n["request"] and n["address"]}
    return set(names) <= seen


class Served:
    """A leader unit serving both of kubernetes-control-plane's requests."""

    def __init__(self, ctx, state, ext, int_, requirer, machine):
        self.ctx, self.state, self.ext, self.int, self.requirer = ctx, state, ext, int_, requirer
        self.machine = machine

    def responses(self):
        return (self.requirer.response(EXT, EXT_NAME), self.requirer.response(INT, INT_NAME))

    def run(self, event, state=None):
        self.state = self.ctx.run(event, state or self.state)
        deliver(self.requirer, self.state, self.ext, EXT)
        deliver(self.requirer, self.state, self.int, INT)
        return self.state


def serve(cloud, machine, requirer, **config) -> Served:
    """install → relations created → the control plane requests → answers published."""
    ctx = context()
    state = testing.State(leader=True, config=base_config(cloud, **config))
    state = ctx.run(ctx.on.install(), state)
    ext, int_ = kcp_relation(requirer, EXT), kcp_relation(requirer, INT)
    state = dataclasses.replace(state, relations={ext, int_})
    served = Served(ctx, state, ext, int_, requirer, machine)
    # relation-created: we publish `version`, the requirer can then ask.
    served.run(ctx.on.relation_created(served.state.get_relation(ext.id)))
    served.run(ctx.on.relation_created(served.state.get_relation(int_.id)))
    assert dict(served.state.get_relation(ext.id).local_app_data) == {"version": "1"}
    assert requirer.lib(EXT).can_request and requirer.lib(INT).can_request
    requirer.request_api_server()
    state = send(requirer, served.state, ext, EXT)
    state = send(requirer, state, int_, INT)
    served.run(ctx.on.relation_changed(state.get_relation(ext.id), remote_unit=0), state)
    served.run(ctx.on.relation_joined(served.state.get_relation(int_.id), remote_unit=0))
    # The daemon converges in the background and runs its notify command (juju-exec), which
    # re-runs the charm: update-status publishes what became ready.
    wait_until(lambda: notified(machine, [EXT_NAME, INT_NAME]), "the daemon's notify command")
    served.run(ctx.on.update_status())
    return served


def test_install_is_maintenance_then_installs_binary_unit_and_daemon(cloud, machine):
    ctx = context()
    out = ctx.run(ctx.on.install(), testing.State(leader=True, config=base_config(cloud)))
    assert testing.MaintenanceStatus("installing octavia-integrator") in ctx.unit_status_history
    assert out.unit_status == testing.ActiveStatus("ready; no load balancer requested")
    assert machine.binary.stat().st_mode & 0o777 == 0o755
    unit = machine.unit_file.read_text()
    assert f"ExecStart={machine.binary} --config {machine.settings} serve" in unit
    for hardening in ("ProtectSystem=strict", "NoNewPrivileges=yes", "CapabilityBoundingSet=",
                      "ExecReload=/bin/kill -HUP $MAINPID", "RuntimeDirectory=octavia-integrator"):
        assert hardening in unit
    assert machine.systemctl_calls()[:3] == [
        "daemon-reload", "is-active --quiet octavia-integrator", "enable --now octavia-integrator",
    ]
    assert machine.daemon_pid()
    assert machine.settings.stat().st_mode & 0o777 == 0o600
    # start (after install): the same pass; the running daemon is left alone.
    pid = machine.daemon_pid()
    out = ctx.run(ctx.on.start(), out)
    assert out.unit_status == testing.ActiveStatus("ready; no load balancer requested")
    assert machine.daemon_pid() == pid


def test_control_plane_gets_external_and_internal_addresses_through_the_library(cloud, machine, requirer):
    served = serve(cloud, machine, requirer)
    external, internal = served.responses()
    assert external is not None and internal is not None, "the library sees no complete response"
    assert external.error is None and internal.error is None
    assert external.address != internal.address
    assert ipaddress.ip_address(internal.address) in ipaddress.ip_network("10.5.0.0/24")  # the VIP
    assert ipaddress.ip_address(external.address) not in ipaddress.ip_network("10.5.0.0/24")  # a FIP
    assert external.received_hash == requirer.lib(EXT).get_request(EXT_NAME).sent_hash
    both = ", ".join(sorted([external.address, internal.address]))
    assert served.state.unit_status == testing.ActiveStatus(f"2 load balancers ready: {both}")
    # The notify command names this unit and re-runs the charm's dispatch as update-status.
    note = machine.notifications()[0]
    assert note["argv"][0] == f"{APP}/0"
    assert note["argv"][1].startswith("cd /")
    assert note["argv"][1].endswith(" && JUJU_DISPATCH_PATH=hooks/update-status ./dispatch")
    # The members are the control plane's units, by their ingress addresses.
    rows = machine.status()["requests"]
    assert {r["request"] for r in rows} == {f"{KCP}/{EXT_NAME}", f"{KCP}/{INT_NAME}"}
    assert all(r["members_total"] == len(UNIT_ADDRESSES) for r in rows)


def test_leader_change_keeps_both_addresses(cloud, machine, requirer, monkeypatch):
    served = serve(cloud, machine, requirer)
    before = [r.address for r in served.responses()]
    # The old leader loses leadership: leader-settings-changed tells the daemon, which stops
    # acting, and the unit stands by. (`ctx.on` has no factory for this deprecated event, which
    # the pinned harness still runs as a built-in one.)
    old = served.ctx.run(_Event("leader_settings_changed"),
                         dataclasses.replace(served.state, leader=False))
    assert old.unit_status == testing.ActiveStatus("standby: the leader manages the load balancers")
    assert machine.status()["leader"] is False
    # Unit 1, on its own machine with an empty store, is elected: it adopts what exists.
    other = Machine(monkeypatch)
    try:
        ctx = context(unit_id=1)
        new = testing.State(leader=False, config=served.state.config, model=served.state.model,
                            relations=served.state.relations)
        new = ctx.run(ctx.on.install(), new)
        assert new.unit_status == testing.ActiveStatus("standby: the leader manages the load balancers")
        new = ctx.run(ctx.on.leader_elected(), dataclasses.replace(new, leader=True))
        wait_until(lambda: notified(other, [EXT_NAME, INT_NAME]), "the new leader's notify command")
        new = ctx.run(ctx.on.update_status(), new)
        deliver(requirer, new, served.ext, EXT)
        deliver(requirer, new, served.int, INT)
        after = [r.address if r else None for r in served.responses()]
        assert after == before
        assert new.unit_status.name == "active" and "2 load balancers ready" in new.unit_status.message
        # Adopted, not rebuilt: still exactly two load balancers of this cluster in the cloud.
        assert len(cloud.load_balancers(cluster_of(new))) == 2
    finally:
        other.cleanup()
        machine.use()


def test_relation_broken_removes_its_load_balancer(cloud, machine, requirer):
    served = serve(cloud, machine, requirer)
    cluster = cluster_of(served.state)
    assert len(cloud.load_balancers(cluster)) == 2
    state = served.ctx.run(served.ctx.on.relation_broken(served.state.get_relation(served.ext.id)), served.state)
    state = dataclasses.replace(state, relations={state.get_relation(served.int.id)})
    wait_until(lambda: len(cloud.load_balancers(cluster)) == 1, "the external load balancer's deletion")
    # status shows a removal until it is carried out (its load balancer gone, not just going).
    wait_until(lambda: [r["request"] for r in machine.status()["requests"]] == [f"{KCP}/{INT_NAME}"],
               "the removal to be done")
    state = served.ctx.run(served.ctx.on.relation_broken(state.get_relation(served.int.id)), state)
    wait_until(lambda: not cloud.load_balancers(cluster), "the internal load balancer's deletion")
    state = served.ctx.run(served.ctx.on.update_status(), dataclasses.replace(state, relations=set()))
    assert state.unit_status == testing.ActiveStatus("ready; no load balancer requested")


def test_a_departed_unit_leaves_the_pool(cloud, machine, requirer):
    served = serve(cloud, machine, requirer)
    rel = served.state.get_relation(served.ext.id)
    units = {i: d for i, d in rel.remote_units_data.items() if i != 2}
    state = refresh(served.state, rel, remote_units_data=units)
    served.run(served.ctx.on.relation_departed(state.get_relation(rel.id), remote_unit=2,
                                               departing_unit=2), state)

    def members():
        rows = {r["request"]: r for r in machine.status()["requests"]}
        return rows[f"{KCP}/{EXT_NAME}"]["members_total"] == 2 and rows[f"{KCP}/{INT_NAME}"]["members_total"] == 3

    wait_until(members, "kubernetes-control-plane/2 to leave the external pool")
    assert served.responses()[0].address is not None


def test_a_removed_request_is_unset_and_deleted(cloud, machine, requirer):
    served = serve(cloud, machine, requirer)
    requirer.remove_request(INT, INT_NAME)
    state = send(requirer, served.state, served.int, INT)
    served.run(served.ctx.on.relation_changed(state.get_relation(served.int.id), remote_unit=0), state)
    assert f"response_{INT_NAME}" not in served.state.get_relation(served.int.id).local_app_data
    wait_until(lambda: len(cloud.load_balancers(cluster_of(served.state))) == 1, "the deletion")


def test_non_leader_stands_by_and_writes_nothing(cloud, machine, requirer):
    ctx = context()
    requirer.handshake()
    requirer.request_api_server()
    rel = kcp_relation(requirer, EXT)
    state = testing.State(leader=False, config=base_config(cloud), relations={rel})
    state = ctx.run(ctx.on.install(), state)
    state = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), state)
    assert state.unit_status == testing.ActiveStatus("standby: the leader manages the load balancers")
    assert dict(state.get_relation(rel.id).local_app_data) == {}
    assert machine.daemon_pid() and machine.status()["leader"] is False
    assert cloud.load_balancers(cluster_of(state)) == []


def test_waiting_while_load_balancers_converge(slow_cloud, machine, requirer):
    ctx = context()
    state = testing.State(leader=True, config=base_config(slow_cloud))
    state = ctx.run(ctx.on.install(), state)
    requirer.handshake()
    requirer.request_api_server()
    ext, int_ = kcp_relation(requirer, EXT), kcp_relation(requirer, INT)
    state = dataclasses.replace(state, relations={ext, int_})
    state = ctx.run(ctx.on.relation_changed(ext, remote_unit=0), state)
    # Amphora takes 45 real seconds here: nothing is ready yet, and the status says how much.
    assert state.unit_status == testing.WaitingStatus("0 of 2 load balancers ready")
    assert f"response_{EXT_NAME}" not in state.get_relation(ext.id).local_app_data


def test_a_request_the_provider_cannot_serve_blocks_naming_it(cloud, machine, requirer):
    ctx = context()
    state = ctx.run(ctx.on.install(), testing.State(leader=True, config=base_config(cloud)))
    requirer.handshake()
    lb = requirer.lib(EXT)
    req = lb.get_request("udp-dns")
    req.protocol = req.protocols.udp
    req.port_mapping = {53: 5353}
    req.algorithm = ["SOURCE_IP_PORT"]  # amphora lacks it
    lb.send_request(req)
    rel = kcp_relation(requirer, EXT)
    state = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), dataclasses.replace(state, relations={rel}))
    wait_until(lambda: machine.notifications(), "the answer")
    state = ctx.run(ctx.on.update_status(), state)
    deliver(requirer, state, rel, EXT)
    assert requirer.response(EXT, "udp-dns").error == v1.ErrorTypes.unsupported
    assert state.unit_status == testing.BlockedStatus(
        f"1 of 1 requests failed: {KCP}/udp-dns (error: unsupported); see the list-load-balancers action"
    )


def test_legacy_public_address_relation(cloud, machine):
    ctx = context()
    state = ctx.run(ctx.on.install(), testing.State(leader=True, config=base_config(cloud, **{"lb-port": 8443})))
    rel = testing.Relation(
        endpoint="loadbalancer", interface="public-address", remote_app_name="kubernetes-master",
        remote_units_data={i: {"ingress-address": a, "port": "6443"} for i, a in UNIT_ADDRESSES.items()},
    )
    state = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), dataclasses.replace(state, relations={rel}))
    wait_until(lambda: notified(machine, ["public-address"]), "the notify command")
    state = ctx.run(ctx.on.update_status(), state)
    ours = dict(state.get_relation(rel.id).local_unit_data)
    assert ours["port"] == "8443"
    assert ipaddress.ip_address(ours["public-address"]) not in ipaddress.ip_network("10.5.0.0/24")
    assert state.unit_status == testing.ActiveStatus(f"1 load balancer ready: {ours['public-address']}")
    state = ctx.run(ctx.on.relation_broken(state.get_relation(rel.id)), state)
    wait_until(lambda: not cloud.load_balancers(cluster_of(state)), "the deletion")


def test_config_changed_rewrites_settings_and_reloads_the_daemon(cloud, machine, requirer):
    served = serve(cloud, machine, requirer)
    pid = machine.daemon_pid()
    config = dict(served.state.config, **{"lb-method": "LEAST_CONNECTIONS", "resync-interval": 60})
    calls = len(machine.systemctl_calls())
    state = served.run(served.ctx.on.config_changed(), dataclasses.replace(served.state, config=config))
    assert "reload octavia-integrator" in machine.systemctl_calls()[calls:]
    assert machine.daemon_pid() == pid  # SIGHUP, not a restart
    text = machine.settings.read_text()
    assert 'default_algorithm = "LEAST_CONNECTIONS"' in text and "resync_seconds = 60" in text
    assert state.unit_status.name == "active"
    # Nothing changed: no reload.
    calls = len(machine.systemctl_calls())
    served.run(served.ctx.on.config_changed())
    assert "reload octavia-integrator" not in machine.systemctl_calls()[calls:]


def test_upgrade_reinstalls_and_restarts(cloud, machine, requirer):
    served = serve(cloud, machine, requirer)
    pid = machine.daemon_pid()
    before = [r.address for r in served.responses()]
    state = served.run(served.ctx.on.upgrade_charm())
    assert testing.MaintenanceStatus("installing octavia-integrator") in served.ctx.unit_status_history
    assert machine.daemon_pid() not in (None, pid)
    assert "restart octavia-integrator" in machine.systemctl_calls()
    assert state.unit_status.name == "active"
    assert [r.address for r in served.responses()] == before


def test_actions_list_gc_and_non_leader(cloud, machine, requirer):
    served = serve(cloud, machine, requirer)
    ctx = served.ctx
    ctx.run(ctx.on.action("list-load-balancers"), served.state)
    assert ctx.action_results["count"] == 2
    listed = json.loads(ctx.action_results["load-balancers"])
    assert {r["request"] for r in listed["requests"]} == {f"{KCP}/{EXT_NAME}", f"{KCP}/{INT_NAME}"}
    assert cloud.auth["password"] not in ctx.action_results["load-balancers"]
    # gc: a dry run unless confirm=true; the daemon is paused and started again.
    ctx.run(ctx.on.action("gc"), served.state)
    assert ctx.action_results["dry-run"] is True and ctx.action_results["count"] == 0
    assert machine.systemctl_calls()[-2:] == ["disable --now octavia-integrator", "enable --now octavia-integrator"]
    assert machine.daemon_pid()
    ctx.run(ctx.on.action("gc", params={"confirm": True}), served.state)
    assert ctx.action_results["dry-run"] is False
    assert len(cloud.load_balancers(cluster_of(served.state))) == 2  # nothing was orphaned
    with pytest.raises(testing.ActionFailed, match="run gc on the leader"):
        ctx.run(ctx.on.action("gc"), dataclasses.replace(served.state, leader=False))


def test_remove_stops_the_daemon_and_leaves_the_cloud_alone_by_default(cloud, machine, requirer):
    served = serve(cloud, machine, requirer)
    served.ctx.run(served.ctx.on.remove(), served.state)
    assert machine.daemon_pid() is None
    assert machine.systemctl_calls()[-1] == "disable --now octavia-integrator"
    assert len(cloud.load_balancers(cluster_of(served.state))) == 2


def test_remove_deletes_what_was_built_when_asked(cloud, machine, requirer):
    served = serve(cloud, machine, requirer, **{"remove-load-balancers-on-remove": True})
    cluster = cluster_of(served.state)
    assert len(cloud.load_balancers(cluster)) == 2
    served.ctx.run(served.ctx.on.remove(), served.state)
    assert machine.daemon_pid() is None
    assert cloud.load_balancers(cluster) == []
