//! Settings (TOML) and cloud credentials (clouds.yaml, `OS_*` variables, Juju credentials).
