//! Octavia v2: one module per resource.
