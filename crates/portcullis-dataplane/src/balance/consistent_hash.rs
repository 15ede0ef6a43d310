//! Consistent hashing on a ring of virtual nodes (about 160 per backend, in proportion
//! to weight). Removing one of N backends moves only the keys it owned, about 1/N; an
//! unaccepted backend's keys go to the next backend clockwise.

use super::{scan, Candidate, Select, SelectKey};

/// Average virtual nodes per backend.
const VNODES_PER_BACKEND: u64 = 160;

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct ConsistentHash {
    /// (point, backend index), sorted by point.
    ring: Vec<(u64, u32)>,
}

impl ConsistentHash {
    /// Builds the ring; points depend on each backend's address, not its position, so
    /// other backends' keys stay put when one is added or removed.
    pub(crate) fn new(backends: &[(&str, u32)]) -> Self {
        let total: u64 = backends
            .iter()
            .map(|(_, w)| u64::from(*w))
            .sum::<u64>()
            .max(1);
        let n = backends.len() as u64;
        let mut ring = Vec::new();
        for (index, (address, weight)) in backends.iter().enumerate() {
            let vnodes = (VNODES_PER_BACKEND * n * u64::from(*weight) / total).max(1);
            for vnode in 0..vnodes {
                let point = hash_bytes(format!("{address}#{vnode}").as_bytes());
                ring.push((point, index as u32));
            }
        }
        ring.sort_unstable();
        Self { ring }
    }
}

impl Select for ConsistentHash {
    fn select<C: Candidate>(
        &self,
        backends: &[C],
        key: SelectKey,
        accept: &mut dyn FnMut(usize) -> bool,
    ) -> Option<usize> {
        if self.ring.is_empty() {
            return None;
        }
        let start = self.ring.partition_point(|&(point, _)| point < key.hash);
        let len = self.ring.len();
        // Walk clockwise; rejecting the same backend again costs nothing new.
        let mut last_rejected = u32::MAX;
        for step in 0..len.min(backends.len() * VNODES_PER_BACKEND as usize * 2) {
            let (_, index) = self.ring[(start + step) % len];
            if index != last_rejected {
                if accept(index as usize) {
                    return Some(index as usize);
                }
                last_rejected = index;
            }
        }
        scan(backends.len(), 0, accept)
    }
}

/// A stable 64-bit hash (FNV-1a, then a splitmix64 finish for avalanche): the same
/// key maps to the same backend in every process and release.
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::fakes;
    use super::*;

    fn owners(addresses: &[&str], keys: u64) -> Vec<String> {
        let backends: Vec<(&str, u32)> = addresses.iter().map(|a| (*a, 1)).collect();
        let ring = ConsistentHash::new(&backends);
        let fake = fakes(&vec![1; addresses.len()]);
        (0..keys)
            .map(|k| {
                let key = SelectKey {
                    hash: hash_bytes(&k.to_le_bytes()),
                };
                let index = ring.select(&fake, key, &mut |_| true).unwrap();
                addresses[index].to_string()
            })
            .collect()
    }

    #[test]
    fn removing_one_of_n_moves_about_one_nth() {
        let all = ["a:1", "b:1", "c:1", "d:1", "e:1"];
        let before = owners(&all, 10_000);
        let after = owners(&all[..4], 10_000);
        let moved = before.iter().zip(&after).filter(|(b, a)| b != a).count();
        let owned_by_removed = before.iter().filter(|b| *b == "e:1").count();
        assert_eq!(
            moved, owned_by_removed,
            "only the removed backend's keys move"
        );
        let share = moved as f64 / 10_000.0;
        assert!((0.12..0.28).contains(&share), "moved {share}");
    }

    #[test]
    fn unaccepted_owner_passes_keys_clockwise() {
        let ring = ConsistentHash::new(&[("a:1", 1), ("b:1", 1)]);
        let fake = fakes(&[1, 1]);
        for k in 0..100u64 {
            let key = SelectKey {
                hash: hash_bytes(&k.to_le_bytes()),
            };
            assert_eq!(ring.select(&fake, key, &mut |i| i == 1), Some(1));
        }
    }
}
