//! The text both sides print for each classified image, so the host's and
//! the firmware's outputs can be compared with `diff`.
//!
//! Plain `core`, no `core::fmt`: the firmware writes these lines without the
//! formatting machinery, which keeps its flash and stack small. The host
//! tool includes this file with `#[path]`.
//!
//! A line is `img 007 label 3 pred 3 y 3a8f1c2b … (10 words)`: the test index,
//! the true label, the arg-max of the logits and the network's logits
//! as the hexadecimal bit patterns of their `f32` values; inputs without a
//! label print `x 007 pred 3 y …`. The closing line is `accuracy 98/100`
//! for labelled inputs, `identical 8/8` for outputs compared with the
//! host's. Lines starting with `#` carry measurements that legitimately
//! differ between host and device.

/// Room for the longest line.
pub const LINE_LEN: usize = 128;

/// A line under construction in a fixed buffer.
pub struct Line {
    buf: [u8; LINE_LEN],
    len: usize,
}

impl Default for Line {
    fn default() -> Self {
        Self::new()
    }
}

impl Line {
    /// An empty line.
    pub const fn new() -> Self {
        Line {
            buf: [0; LINE_LEN],
            len: 0,
        }
    }

    /// Appends bytes; text beyond [`LINE_LEN`] is cut off.
    pub fn push(&mut self, s: &[u8]) -> &mut Self {
        let n = s.len().min(LINE_LEN - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
        self
    }

    /// Appends `n` in decimal, zero-padded to at least `width` digits.
    ///
    /// `u32`, not `u64`: a 64-bit division would pull in about 1 KiB of
    /// compiler-builtins code on a 32-bit core.
    pub fn dec(&mut self, mut n: u32, width: usize) -> &mut Self {
        let mut digits = [b'0'; 10];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let start = i.min(digits.len() - width.min(digits.len()));
        self.push(&digits[start..])
    }

    /// Appends the 32 bits of `v` as eight lowercase hexadecimal digits.
    pub fn hex(&mut self, v: u32) -> &mut Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 8];
        for (i, o) in out.iter_mut().enumerate() {
            *o = HEX[((v >> (28 - 4 * i)) & 0xf) as usize];
        }
        self.push(&out)
    }

    /// The bytes written so far, ending in a newline.
    pub fn finish(&mut self) -> &[u8] {
        if self.len == LINE_LEN {
            self.len -= 1;
        }
        self.buf[self.len] = b'\n';
        &self.buf[..=self.len]
    }
}

/// Index of the largest output; the first one on ties.
pub fn argmax(y: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in y.iter().enumerate() {
        if v > y[best] {
            best = i;
        }
    }
    best
}

/// The line of test image `index` with true label `label` and outputs `y`.
pub fn prediction(index: usize, label: u8, y: &[f32]) -> Line {
    let mut line = Line::new();
    line.push(b"img ").dec(index as u32, 3);
    line.push(b" label ").dec(u32::from(label), 1);
    line.push(b" pred ").dec(argmax(y) as u32, 1);
    outputs(&mut line, y);
    line
}

/// The line of input `index`, which has no label, with outputs `y`.
pub fn sample(index: usize, y: &[f32]) -> Line {
    let mut line = Line::new();
    line.push(b"x ").dec(index as u32, 3);
    line.push(b" pred ").dec(argmax(y) as u32, 1);
    outputs(&mut line, y);
    line
}

/// ` y` and each output's bits. Not inlined: its callers' copies, unrolled
/// over ten outputs each, cost half a kilobyte of flash.
#[inline(never)]
fn outputs(line: &mut Line, y: &[f32]) {
    line.push(b" y");
    for v in y {
        line.push(b" ").hex(v.to_bits());
    }
}

/// The closing line of labelled inputs: `accuracy 99/100`.
pub fn accuracy(correct: usize, total: usize) -> Line {
    tally(b"accuracy ", correct, total)
}

/// The closing line of inputs checked against the host's outputs:
/// `identical 8/8`.
pub fn identical(same: usize, total: usize) -> Line {
    tally(b"identical ", same, total)
}

/// `word n/total`.
fn tally(word: &[u8], n: usize, total: usize) -> Line {
    let mut line = Line::new();
    line.push(word)
        .dec(n as u32, 1)
        .push(b"/")
        .dec(total as u32, 1);
    line
}

/// Whether `a` and `b` hold the same `f32` bit patterns (so `-0.0` differs
/// from `0.0` and a NaN equals only its own pattern, unlike `==`).
pub fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits())
}
