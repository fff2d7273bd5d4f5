"""The binary's settings file (TOML, see deploy/settings.example.toml), from the charm's config.

Pure: takes values, returns text. The caller writes it with mode 0600 (it holds secrets).
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, Mapping

from credentials import Credentials

# The settings' `[load_balancer] default_algorithm` values (the binary refuses others).
ALGORITHMS = ("ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP", "SOURCE_IP_PORT")
CLUSTER_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


class SettingsError(Exception):
    """A config option the binary cannot take; the message is the blocked status."""


@dataclasses.dataclass(frozen=True)
class DaemonPlaces:
    """Where the daemon keeps its socket and store, and how it re-runs the charm."""

    socket: str
    state_file: str
    notify_command: list[str]


def quote(value: str) -> str:
    """A TOML basic string (JSON's escapes are all valid TOML escapes)."""
    return json.dumps(value, ensure_ascii=True)


def cluster_id(option: str, app_name: str, model_uuid: str) -> str:
    """`cluster-id`, or `<app>-<model short id>` (the Python charm's model short id)."""
    if option:
        if not CLUSTER_ID.match(option):
            raise SettingsError(
                "invalid cluster-id: use letters, digits, - _ . and at most 32 characters"
            )
        return option
    short = model_uuid.split("-")[-1][:12] or "model"
    app = re.sub(r"[^A-Za-z0-9_.-]", "-", app_name)[: 31 - len(short)]
    return f"{app}-{short}"


def render(
    config: Mapping[str, Any],
    creds: Credentials,
    *,
    cluster: str,
    ca_file: str | None,
    places: DaemonPlaces,
) -> str:
    """The whole settings file. `ca_file`: where the caller writes `creds.ca_pem`, if any."""
    subnet = str(config.get("lb-subnet") or "").strip()
    if not subnet:
        raise SettingsError(
            "lb-subnet is required: juju config <app> lb-subnet=<subnet name or id> "
            "(the subnet the load balancers' VIPs come from)"
        )
    method = str(config.get("lb-method") or "ROUND_ROBIN").strip().upper()
    if method not in ALGORITHMS:
        raise SettingsError(f"invalid lb-method {method!r}: use one of {', '.join(ALGORITHMS)}")
    resync = int(config.get("resync-interval", 300))
    if not 10 <= resync <= 86400:
        raise SettingsError("invalid resync-interval: between 10 and 86400 seconds")

    lines = [
        "# Written by the octavia-integrator charm: changes here are overwritten.",
        f"cluster_id = {quote(cluster)}",
        "",
        "[cloud]",
    ]
    fields = creds.fields
    lines.append(f"auth_url = {quote(fields['auth_url'])}")
    if fields.get("region"):
        lines.append(f"region = {quote(fields['region'])}")
    if ca_file:
        lines.append(f"ca_file = {quote(ca_file)}")
    if creds.insecure:
        lines.append("insecure = true")
    if creds.uses_application_credential:
        lines.append(f"application_credential_id = {quote(creds.application_credential_id)}")
        lines.append(
            f"application_credential_secret = {quote(creds.application_credential_secret)}"
        )
    else:
        for key in (
            "username",
            "password",
            "user_domain_name",
            "user_domain_id",
            "project_name",
            "project_id",
            "project_domain_name",
            "project_domain_id",
            "domain_name",
            "domain_id",
        ):
            if fields.get(key):
                lines.append(f"{key} = {quote(fields[key])}")

    lines += ["", "[load_balancer]", f"vip_subnet = {quote(subnet)}"]
    optional = {
        "member_subnet": "member-subnet",
        "floating_network": "lb-floating-network",
        "provider": "provider",
        "flavor": "flavor",
        "availability_zone": "availability-zone",
    }
    for key, option in optional.items():
        value = str(config.get(option) or "").strip()
        if value:
            lines.append(f"{key} = {quote(value)}")
    lines.append(f"default_algorithm = {quote(method)}")
    manage = bool(config.get("manage-security-groups", False))
    lines.append(f"manage_security_groups = {'true' if manage else 'false'}")

    metrics = str(config.get("metrics-address") or "off").strip()
    lines += [
        "",
        "[daemon]",
        f"socket = {quote(places.socket)}",
        f"state_file = {quote(places.state_file)}",
        f"resync_seconds = {resync}",
        "notify_command = [" + ", ".join(quote(a) for a in places.notify_command) + "]",
        f"metrics_address = {quote(metrics)}",
        # A fresh unit acts on nothing until a hook tells it that it leads.
        "leader = false",
        "",
    ]
    return "\n".join(lines)
