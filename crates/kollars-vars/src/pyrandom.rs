//! Python's `random.Random` as far as Ansible's `random` filter uses it: the Mersenne Twister
//! (MT19937) seeded the way CPython seeds it from a string or an integer, `randrange` and
//! `choice`. kolla spreads hosts over groups with `… | random(seed=inventory_hostname)` (each
//! OVN chassis picks its southbound relay that way), so the pick must be Python's, bit for bit,
//! for a host to land where kolla-ansible puts it.

use sha2::{Digest, Sha512};

const N: usize = 624;
const M: usize = 397;

/// One generator: CPython's `_random.Random` state.
pub struct PyRandom {
    mt: [u32; N],
    index: usize,
}

impl PyRandom {
    /// `random.Random(seed)` for a string seed (CPython's version 2 seeding: the UTF-8 bytes
    /// followed by their SHA-512, read as one big-endian integer).
    pub fn from_str_seed(seed: &str) -> PyRandom {
        let mut bytes = seed.as_bytes().to_vec();
        bytes.extend_from_slice(&Sha512::digest(seed.as_bytes()));
        PyRandom::from_be_bytes(&bytes)
    }

    /// `random.Random(seed)` for an integer seed (its absolute value, as CPython does).
    pub fn from_int_seed(seed: i128) -> PyRandom {
        PyRandom::from_be_bytes(&seed.unsigned_abs().to_be_bytes())
    }

    /// Seeds from a non-negative integer given as big-endian bytes: CPython's `init_by_array`
    /// with its 32-bit words, least significant first (at least one word).
    fn from_be_bytes(be: &[u8]) -> PyRandom {
        let mut le: Vec<u8> = be.iter().rev().copied().collect();
        while le.last() == Some(&0) {
            le.pop();
        }
        let mut key: Vec<u32> = le
            .chunks(4)
            .map(|c| {
                let mut w = [0u8; 4];
                w[..c.len()].copy_from_slice(c);
                u32::from_le_bytes(w)
            })
            .collect();
        if key.is_empty() {
            key.push(0);
        }
        let mut r = PyRandom {
            mt: [0; N],
            index: N,
        };
        r.init_by_array(&key);
        r
    }

    fn init_genrand(&mut self, s: u32) {
        self.mt[0] = s;
        for i in 1..N {
            let prev = self.mt[i - 1];
            self.mt[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        self.index = N;
    }

    fn init_by_array(&mut self, key: &[u32]) {
        self.init_genrand(19_650_218);
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(key.len()) {
            let prev = self.mt[i - 1];
            self.mt[i] = (self.mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                self.mt[0] = self.mt[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let prev = self.mt[i - 1];
            self.mt[i] = (self.mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                self.mt[0] = self.mt[N - 1];
                i = 1;
            }
        }
        self.mt[0] = 0x8000_0000;
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            for k in 0..N {
                let y = (self.mt[k] & 0x8000_0000) | (self.mt[(k + 1) % N] & 0x7fff_ffff);
                let mag = if y & 1 == 1 { 0x9908_b0df } else { 0 };
                self.mt[k] = self.mt[(k + M) % N] ^ (y >> 1) ^ mag;
            }
            self.index = 0;
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `getrandbits(k)` for 1 ≤ k ≤ 64 (words least significant first, as CPython).
    fn getrandbits(&mut self, k: u32) -> u64 {
        if k <= 32 {
            return u64::from(self.next_u32() >> (32 - k));
        }
        let low = u64::from(self.next_u32());
        let high = u64::from(self.next_u32() >> (64 - k));
        low | (high << 32)
    }

    /// `_randbelow(n)` for n ≥ 1: rejection sampling on n's bit length.
    pub fn below(&mut self, n: u64) -> u64 {
        let k = 64 - n.leading_zeros();
        loop {
            let r = self.getrandbits(k);
            if r < n {
                return r;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PyRandom;

    // Expected values from CPython 3.11: random.Random(seed).choice(list(range(1, n + 1)))
    // and Random(seed).getrandbits(32).
    #[test]
    fn matches_cpython() {
        let mut r = PyRandom::from_str_seed("ctl1");
        let first = r.getrandbits(32);
        let mut r = PyRandom::from_str_seed("ctl1");
        assert_eq!(r.getrandbits(32), first);
        for (seed, n, want) in CASES {
            let mut r = PyRandom::from_str_seed(seed);
            assert_eq!(r.below(*n) + 1, *want, "seed {seed} n {n}");
        }
        let mut r = PyRandom::from_int_seed(42);
        assert_eq!(r.getrandbits(32), INT42_BITS);
        // a seed of more than one 32-bit word, and 64-bit draws
        let mut r = PyRandom::from_int_seed((1 << 40) + 7);
        assert_eq!(r.below(1000), 628);
        let mut r = PyRandom::from_str_seed("ctl1");
        assert_eq!(r.getrandbits(64), 9518854222927802952);
    }

    const CASES: &[(&str, u64, u64)] = &[
        ("ctl1", 1, 1),
        ("ctl1", 2, 1),
        ("ctl1", 3, 3),
        ("ctl1", 5, 5),
        ("ctl1", 64, 29),
        ("ctl1", 1000, 586),
        ("ctl2", 1, 1),
        ("ctl2", 2, 2),
        ("ctl2", 3, 2),
        ("ctl2", 5, 3),
        ("ctl2", 64, 39),
        ("ctl2", 1000, 311),
        ("cmp1", 1, 1),
        ("cmp1", 2, 1),
        ("cmp1", 3, 1),
        ("cmp1", 5, 1),
        ("cmp1", 64, 11),
        ("cmp1", 1000, 85),
        ("compute-017", 1, 1),
        ("compute-017", 2, 2),
        ("compute-017", 3, 2),
        ("compute-017", 5, 4),
        ("compute-017", 64, 64),
        ("compute-017", 1000, 508),
        ("", 1, 1),
        ("", 2, 2),
        ("", 3, 2),
        ("", 5, 4),
        ("", 64, 59),
        ("", 1000, 984),
    ];
    const INT42_BITS: u64 = 2746317213;
}
