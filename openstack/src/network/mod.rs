//! Neutron v2.0: one module per resource.
