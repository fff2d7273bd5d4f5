//! Octavia v2: one module per resource. Each holds its read type, its request types
//! (`Create*`/`Update*`, separate from the read type), private path functions (the only place a
//! URL is spelled), and the async calls, each stating its success codes.
//!
//! Enumerations we write are spelled exactly as Octavia spells them; everything we read
//! tolerates unknown enum values (`Unknown(String)`) and fields older clouds lack.

pub mod enums;
pub mod health_monitors;
pub mod listeners;
pub mod load_balancers;
pub mod members;
pub mod pools;
pub mod providers;
pub mod status_tree;
pub(crate) mod wire;

pub use enums::{
    HttpMethod, LbAlgorithm, MonitorType, OperatingStatus, Protocol, ProvisioningStatus,
    SessionPersistenceType,
};
pub use wire::{parse_time, IdRef, Link};
