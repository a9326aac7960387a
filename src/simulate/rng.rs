//! A small seeded PRNG (SplitMix64 seeding xoshiro256++). Hand-rolled so the output of a seed is
//! fixed forever: a crate upgrade can never change a simulated corpus.

/// Mixes any number of words into one 64-bit key (SplitMix64 finaliser per word).
pub(crate) fn mix(words: &[u64]) -> u64 {
    let mut h = 0x9E37_79B9_7F4A_7C15u64;
    for &w in words {
        h = splitmix(h ^ w);
    }
    h
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256++: fast, good enough for simulation, not for secrets.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            splitmix(x)
        };
        Rng { s: [next(), next(), next(), next()] }
    }

    /// A stream keyed by several words (seed, account, day, …).
    pub(crate) fn keyed(words: &[u64]) -> Rng {
        Rng::new(mix(words))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    /// Uniform in `0..n` (n > 0), by multiply-shift (bias is negligible for simulation).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A count with mean `mean`: Poisson for small means, a rounded normal approximation above.
    pub(crate) fn count(&mut self, mean: f64) -> u64 {
        if mean <= 0.0 {
            return 0;
        }
        if mean < 30.0 {
            let limit = (-mean).exp();
            let (mut k, mut p) = (0u64, 1.0);
            loop {
                p *= self.unit();
                if p <= limit {
                    return k;
                }
                k += 1;
            }
        }
        // Box-Muller; one normal deviate is enough here.
        let (u1, u2) = (self.unit().max(1e-12), self.unit());
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        (mean + z * mean.sqrt()).round().max(0.0) as u64
    }

    /// A random UUID (version 4 layout) as 128 bits.
    pub(crate) fn uuid(&mut self) -> u128 {
        let v = ((self.next_u64() as u128) << 64) | self.next_u64() as u128;
        (v & !(0xF000u128 << 64) & !(0xC000u128 << 48)) | (0x4000u128 << 64) | (0x8000u128 << 48)
    }

    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// Formats 128 bits as a lower-case hyphenated UUID.
pub(crate) fn uuid_string(v: u128, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in 0..32 {
        if matches!(i, 8 | 12 | 16 | 20) {
            out.push(b'-');
        }
        out.push(HEX[((v >> (124 - 4 * i)) & 0xF) as usize]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_stream_and_uuid_shape() {
        let (mut a, mut b) = (Rng::keyed(&[1, 2]), Rng::keyed(&[1, 2]));
        assert_eq!(a.next_u64(), b.next_u64());
        assert_ne!(Rng::keyed(&[1, 3]).next_u64(), Rng::keyed(&[1, 2]).next_u64());
        let mut s = Vec::new();
        uuid_string(a.uuid(), &mut s);
        let s = String::from_utf8(s).unwrap();
        assert_eq!(s.len(), 36);
        assert_eq!(&s[14..15], "4");
        assert!(matches!(&s[19..20], "8" | "9" | "a" | "b"), "{s}");
    }

    #[test]
    fn counts_have_the_asked_mean() {
        let mut r = Rng::new(7);
        for mean in [0.5, 5.0, 200.0] {
            let n = 4000;
            let total: u64 = (0..n).map(|_| r.count(mean)).sum();
            let got = total as f64 / n as f64;
            assert!((got - mean).abs() < mean * 0.1 + 0.1, "mean {mean} got {got}");
        }
    }
}
