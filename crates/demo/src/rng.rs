//! A small seeded generator (SplitMix64). The demo must be identical on every machine and every
//! version, which a general-purpose RNG crate does not promise across releases.

use uuid::Uuid;

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0); the modulo bias is irrelevant for demo data.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A UUIDv7-shaped id (version and variant bits set) from the stream, with a fixed 2026
    /// timestamp prefix so ids still sort like device-made ones.
    pub fn uuid(&mut self) -> Uuid {
        let ms: u64 = 1_790_000_000_000 + self.below(1_000_000);
        self.uuid_at(ms)
    }

    /// A UUIDv7 minted at `ms` (Unix milliseconds), as a phone mints a record's id when the
    /// record is made: a year of visits then lies in the database in about the order it was
    /// made, as a real one does.
    pub fn uuid_at(&mut self, ms: u64) -> Uuid {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.next_u64().to_be_bytes());
        b[8..].copy_from_slice(&self.next_u64().to_be_bytes());
        b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
        b[6] = 0x70 | (b[6] & 0x0F);
        b[8] = 0x80 | (b[8] & 0x3F);
        Uuid::from_bytes(b)
    }
}
