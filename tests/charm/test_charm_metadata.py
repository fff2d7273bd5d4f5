"""charmcraft.yaml: loaded by ops' own metadata loader (CharmMeta) and by ops' testing harness
(which autoloads it and checks every event, config value and action against it)."""

import yaml

import ops

from charm_support import CHARM_DIR, REPO

RAW = yaml.safe_load((CHARM_DIR / "charmcraft.yaml").read_text())

# The Python openstack-integrator charm's options kept with the same name and meaning.
PYTHON_CHARM_OPTIONS = {
    "credentials": "string", "auth-url": "string", "username": "string", "password": "string",
    "project-name": "string", "user-domain-name": "string", "project-domain-name": "string",
    "region": "string", "endpoint-tls-ca": "string", "lb-subnet": "string",
    "lb-floating-network": "string", "lb-method": "string", "manage-security-groups": "boolean",
    "lb-port": "int",
}
OURS = {
    "provider": "string", "flavor": "string", "availability-zone": "string",
    "member-subnet": "string", "resync-interval": "int", "application-credential-id": "string",
    "application-credential-secret": "string", "remove-load-balancers-on-remove": "boolean",
}


def meta() -> ops.CharmMeta:
    return ops.CharmMeta(RAW, RAW["actions"], RAW["config"])


def test_ops_loads_the_endpoints_with_their_interfaces():
    m = meta()
    assert m.name == "octavia-integrator"
    assert {n: e.interface_name for n, e in m.provides.items()} == {
        "lb-consumers": "loadbalancer",
        "loadbalancer": "public-address",
    }
    assert m.requires == {} and m.peers == {}


def test_config_options_keep_the_python_charm_names_and_types():
    options = meta().config
    for name, kind in {**PYTHON_CHARM_OPTIONS, **OURS}.items():
        assert name in options, name
        assert options[name].type == kind, name
    assert options["lb-port"].default == 443
    assert options["lb-method"].default == "ROUND_ROBIN"
    assert options["manage-security-groups"].default is False
    assert options["remove-load-balancers-on-remove"].default is False


def test_actions():
    actions = meta().actions
    assert set(actions) == {"list-load-balancers", "gc", "refresh-credentials"}
    assert actions["gc"].parameters["confirm"] == {
        "type": "boolean", "default": False,
        "description": "Delete the orphans (without it, only list them).",
    }


def test_platforms_and_build_parts():
    assert set(RAW["platforms"]) == {
        f"ubuntu@{series}:{arch}" for series in ("22.04", "24.04") for arch in ("amd64", "arm64")
    }
    parts = RAW["parts"]
    assert parts["charm"]["plugin"] == "charm"
    assert parts["charm"]["source-subdir"] == "deploy/charm"
    assert parts["charm"]["charm-requirements"] == ["requirements.txt"]
    binary = parts["octavia-integrator"]
    assert binary["plugin"] == "rust" and binary["prime"] == ["bin/octavia-integrator"]
    # Every part reads the repository root from deploy/charm.
    for part in parts.values():
        assert (CHARM_DIR / part["source"]).resolve() == REPO
    assert "deploy/systemd/octavia-integrator.service" in parts["systemd-unit"]["override-build"]
    assert (CHARM_DIR / "requirements.txt").read_text().count("ops==") == 1
