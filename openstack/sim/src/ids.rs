//! Deterministic ids from a seed: the UUIDs, hex ids, tokens and MAC addresses the simulated
//! services hand out, and the draws that decide random faults.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Deterministic ids from a seed.
#[derive(Debug)]
pub(crate) struct Ids {
    rng: StdRng,
}

impl Ids {
    pub(crate) fn new(seed: u64) -> Self {
        Ids {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// A dashed UUID (version 4 layout), as Octavia and Neutron use.
    pub(crate) fn uuid(&mut self) -> String {
        let mut b: [u8; 16] = self.rng.random();
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// 32 hex characters without dashes, as Keystone uses.
    pub(crate) fn hex32(&mut self) -> String {
        let b: [u8; 16] = self.rng.random();
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// An opaque token id.
    pub(crate) fn token(&mut self) -> String {
        let b: [u8; 24] = self.rng.random();
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!("gAAAAAsim{h}")
    }

    /// A Neutron-style MAC address.
    pub(crate) fn mac(&mut self) -> String {
        let b: [u8; 3] = self.rng.random();
        format!("fa:16:3e:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2])
    }

    /// A random number in `[0, 1)` (fault rates).
    pub(crate) fn unit(&mut self) -> f64 {
        self.rng.random::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_well_formed() {
        let (mut a, mut b) = (Ids::new(9), Ids::new(9));
        let u = a.uuid();
        assert_eq!(u, b.uuid());
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_eq!(a.hex32().len(), 32);
        assert_ne!(Ids::new(1).uuid(), Ids::new(2).uuid());
    }
}
