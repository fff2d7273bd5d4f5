//! A simulated OpenStack cloud (Keystone v3, Octavia v2, Neutron v2.0) on loopback.
