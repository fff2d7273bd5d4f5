"""OpenStack credentials from `juju trust`, the `credentials` option and the single options.

The three sources are merged in that order, field by field: a later non-empty value replaces an
earlier one (what the Python openstack-integrator charm does, so its operators keep their
habits). Nothing here logs, and no error message quotes a value: values are secrets.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from typing import Any, Mapping

# The fields the Python charm requires, in the order its blocked message lists them.
REQUIRED = (
    "auth_url",
    "region",
    "username",
    "password",
    "user_domain_name",
    "project_domain_name",
    "project_name",
)
OPTIONAL = (
    "project_id",
    "user_domain_id",
    "project_domain_id",
    "domain_name",
    "domain_id",
)
# Hyphenated attribute (trust, `credentials` JSON, option) -> field.
ATTRIBUTES = {name.replace("_", "-"): name for name in REQUIRED + OPTIONAL}
ATTRIBUTES["auth-url"] = "auth_url"
FALLBACKS = {"tenant-name": "project_name", "tenant-id": "project_id"}


class CredentialError(Exception):
    """Credentials that cannot be used; the message is the blocked status (no values)."""


@dataclasses.dataclass
class Credentials:
    """The merged credentials. `fields` holds the Keystone user/project fields by our names."""

    fields: dict[str, str] = dataclasses.field(default_factory=dict)
    ca_pem: str = ""
    insecure: bool = False
    application_credential_id: str = ""
    application_credential_secret: str = ""
    sources: list[str] = dataclasses.field(default_factory=list)

    def merge(self, other: "Credentials") -> None:
        """Takes every non-empty value of `other` (it wins)."""
        for key, value in other.fields.items():
            if value:
                self.fields[key] = value
        if other.ca_pem:
            self.ca_pem = other.ca_pem
        self.insecure = self.insecure or other.insecure
        if other.application_credential_id:
            self.application_credential_id = other.application_credential_id
        if other.application_credential_secret:
            self.application_credential_secret = other.application_credential_secret
        self.sources.extend(s for s in other.sources if s not in self.sources)

    @property
    def uses_application_credential(self) -> bool:
        """Whether an application credential (id and secret) is given."""
        return bool(self.application_credential_id and self.application_credential_secret)

    def check(self) -> None:
        """Raises `CredentialError` naming exactly what is missing."""
        if self.uses_application_credential:
            if not self.fields.get("auth_url"):
                raise CredentialError(
                    "missing required credential: auth_url "
                    "(the application credential needs the Keystone URL: set auth-url)"
                )
            return
        if bool(self.application_credential_id) != bool(self.application_credential_secret):
            half = "secret" if self.application_credential_id else "id"
            raise CredentialError(
                f"application credential incomplete: set application-credential-{half} too"
            )
        missing = [k for k in REQUIRED if not self.fields.get(k)]
        if len(missing) == len(REQUIRED):
            raise CredentialError("missing credentials; grant with `juju trust` or set via config")
        if missing:
            plural = "s" if len(missing) > 1 else ""
            raise CredentialError(f"missing required credential{plural}: {', '.join(missing)}")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _auth_type(kind: Any) -> None:
    kind = _text(kind)
    if kind and kind != "userpass":
        raise CredentialError(f"unsupported auth-type in credentials: {kind}")


def _ca_to_pem(raw: str) -> str:
    """`endpoint-tls-ca`: base64 of PEM, or the PEM itself."""
    raw = raw.strip()
    if not raw:
        return ""
    if "-----BEGIN" in raw:
        return raw + "\n"
    try:
        pem = base64.b64decode("".join(raw.split()), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError) as e:
        raise CredentialError(
            "invalid endpoint-tls-ca: neither PEM nor base64 of PEM"
        ) from e
    if "-----BEGIN" not in pem:
        raise CredentialError("invalid endpoint-tls-ca: the base64 text is not a PEM certificate")
    return pem.strip() + "\n"


def from_attributes(attrs: Mapping[str, Any], source: str) -> Credentials:
    """The flat shape: hyphenated keys (`credentials` JSON and the single options)."""
    _auth_type(attrs.get("auth-type"))
    creds = Credentials(sources=[source])
    for attr, field in ATTRIBUTES.items():
        creds.fields[field] = _text(attrs.get(attr))
    for attr, field in FALLBACKS.items():
        if not creds.fields.get(field):
            creds.fields[field] = _text(attrs.get(attr))
    for key in ("ca-certificates", "cacertificates"):
        certs = attrs.get(key)
        if isinstance(certs, list) and certs:
            creds.ca_pem = "\n".join(str(c).strip() for c in certs) + "\n"
            break
    else:
        creds.ca_pem = _ca_to_pem(_text(attrs.get("endpoint-tls-ca")))
    creds.application_credential_id = _text(attrs.get("application-credential-id"))
    creds.application_credential_secret = _text(attrs.get("application-credential-secret"))
    if not any(creds.fields.values()) and not creds.ca_pem and not creds.application_credential_id:
        creds.sources = []
    return creds


def from_cloud_spec(
    *,
    endpoint: str | None,
    region: str | None,
    auth_type: str | None,
    attributes: Mapping[str, str],
    ca_certificates: list[str],
    skip_tls_verify: bool,
) -> Credentials:
    """The `juju trust` shape (ops' `CloudSpec`, read with credential-get)."""
    _auth_type(auth_type)
    creds = from_attributes(dict(attributes), "juju trust")
    if endpoint:
        creds.fields["auth_url"] = endpoint
    if region:
        creds.fields["region"] = region
    if ca_certificates:
        creds.ca_pem = "\n".join(c.strip() for c in ca_certificates) + "\n"
    creds.insecure = bool(skip_tls_verify)
    creds.sources = ["juju trust"]
    return creds


def from_credentials_option(text: str) -> Credentials:
    """The `credentials` option: base64 of a JSON object."""
    if not text.strip():
        return Credentials()
    try:
        decoded = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as e:
        raise CredentialError(f"invalid value for credentials config: {e}") from e
    try:
        data = json.loads(decoded.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise CredentialError(
            "invalid value for credentials config: the decoded text is not UTF-8"
        ) from e
    except json.JSONDecodeError as e:
        # The message names the position only (msg: line N column M (char K)).
        raise CredentialError(
            f"invalid value for credentials config: {e.msg}: line {e.lineno} column {e.colno}"
        ) from e
    if not isinstance(data, dict):
        raise CredentialError("invalid value for credentials config: not a JSON object")
    if "endpoint" in data and "credential" in data:
        cred = data.get("credential") or {}
        # The trust shape pasted into the option.
        creds = from_cloud_spec(
            endpoint=_text(data.get("endpoint")),
            region=_text(data.get("region")),
            auth_type=cred.get("auth-type"),
            attributes=cred.get("attributes") or {},
            ca_certificates=list(data.get("cacertificates") or data.get("ca-certificates") or []),
            skip_tls_verify=bool(data.get("skip-tls-verify")),
        )
        creds.sources = ["credentials config"]
        return creds
    return from_attributes(data, "credentials config")


def merge(*sources: Credentials) -> Credentials:
    """Merges in order: later non-empty values win."""
    result = Credentials()
    for creds in sources:
        result.merge(creds)
    return result
