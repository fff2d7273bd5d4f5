"""The charm's pure parts: credential merging, the settings file, messages in Juju's words."""

import base64
import json
import tomllib

import pytest

import charm_support  # noqa: F401 (puts deploy/charm/src on the path)
import credentials
import settings
from charm import in_juju_words

PLACES = settings.DaemonPlaces(socket="/run/s.sock", state_file="/var/lib/s.json",
                               notify_command=["/usr/bin/juju-exec", "oi/0", "cd /c && ./dispatch"])
CONFIG = {"lb-subnet": "k8s-subnet", "lb-method": "ROUND_ROBIN", "resync-interval": 300,
          "provider": "amphora", "manage-security-groups": True, "metrics-address": "off"}


def creds(**attrs):
    base = {"auth-url": "https://k/v3", "region": "R", "username": "u", "password": "p",
            "user-domain-name": "D", "project-domain-name": "D", "project-name": "P"}
    c = credentials.from_attributes({**base, **attrs}, "config options")
    c.check()
    return c


def test_secrets_with_toml_metacharacters_survive_the_round_trip():
    nasty = 'a"b\\c\nd\u00e9]\' = true\n[cloud]'
    text = settings.render(CONFIG, creds(password=nasty), cluster="c1", ca_file=None, places=PLACES)
    parsed = tomllib.loads(text)
    assert parsed["cloud"]["password"] == nasty
    assert set(parsed) == {"cluster_id", "cloud", "load_balancer", "daemon"}
    assert parsed["daemon"]["notify_command"] == PLACES.notify_command
    assert parsed["daemon"]["leader"] is False
    assert parsed["load_balancer"] == {"vip_subnet": "k8s-subnet", "provider": "amphora",
                                       "default_algorithm": "ROUND_ROBIN", "manage_security_groups": True}


def test_cluster_id_is_stable_short_and_valid():
    uuid = "9b6e5a1c-2f3d-4e5f-8a9b-0123456789ab"
    assert settings.cluster_id("", "octavia-integrator", uuid) == "octavia-integrator-0123456789ab"
    long = settings.cluster_id("", "a-very-long-application-name-indeed", uuid)
    assert len(long) <= 32 and long.endswith("-0123456789ab")
    assert settings.cluster_id("prod-k8s", "x", uuid) == "prod-k8s"
    with pytest.raises(settings.SettingsError):
        settings.cluster_id("no spaces allowed", "x", uuid)


def test_merge_later_non_empty_values_win_and_empty_ones_do_not_erase():
    trust = credentials.from_cloud_spec(endpoint="https://trust/v3", region="T", auth_type="userpass",
                                        attributes={"username": "t", "password": "tp"},
                                        ca_certificates=["-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----"],
                                        skip_tls_verify=False)
    option = credentials.from_credentials_option(
        base64.b64encode(json.dumps({"username": "o", "tenant-name": "legacy"}).encode()).decode())
    singles = credentials.from_attributes({"username": "", "region": "S"}, "config options")
    merged = credentials.merge(trust, option, singles)
    assert merged.fields["auth_url"] == "https://trust/v3"
    assert merged.fields["username"] == "o"
    assert merged.fields["project_name"] == "legacy"
    assert merged.fields["region"] == "S"
    assert merged.fields["password"] == "tp"
    assert merged.ca_pem.startswith("-----BEGIN CERTIFICATE-----")
    assert merged.sources == ["juju trust", "credentials config", "config options"]


def test_the_trust_shape_pasted_into_the_credentials_option():
    shape = {"endpoint": "https://k/v3", "region": "R", "credential": {"auth-type": "userpass", "attributes": {
        "username": "u", "password": "p", "project-name": "P", "user-domain-name": "D", "project-domain-name": "D"}}}
    c = credentials.from_credentials_option(base64.b64encode(json.dumps(shape).encode()).decode())
    c.check()
    assert c.fields["auth_url"] == "https://k/v3" and c.sources == ["credentials config"]


def test_endpoint_tls_ca_as_base64_or_pem():
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    assert creds(**{"endpoint-tls-ca": base64.b64encode(pem.encode()).decode()}).ca_pem == pem + "\n"
    assert creds(**{"endpoint-tls-ca": pem}).ca_pem == pem + "\n"


def test_binary_messages_name_the_charm_options():
    message = ("setting `[load_balancer] floating_network` = `ext`: no such network; "
               "fix: name an existing network in [load_balancer]; check the password in [cloud]")
    assert in_juju_words(message) == (
        "config `lb-floating-network` = `ext`: no such network; fix: name an existing network "
        "in the charm config; check the password in the credentials (juju trust or the charm config)"
    )
