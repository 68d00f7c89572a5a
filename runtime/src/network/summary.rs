//! `summary()`: a table of layers, output shapes and parameter counts, in the
//! spirit of Keras' `model.summary()`.

use core::fmt;
use core::marker::PhantomData;

use crate::{Network, Scalar};

/// The summary of a network type; print it with `{}`.
///
/// # Examples
/// ```
/// # use constnet as constnet;
/// # struct N;
/// # impl constnet::Network for N {
/// #     type Elem = f32; type Input = [f32; 2]; type Output = [f32; 1];
/// #     const NAME: &'static str = "N"; const INPUT_SHAPE: &'static [usize] = &[2];
/// #     const INPUT_LEN: usize = 2; const OUTPUT_LEN: usize = 1; const PARAM_COUNT: usize = 3;
/// #     const STORE_LEN: usize = 3; const ARENA_LEN: usize = 1; const SIGNATURE: u64 = 0;
/// #     const TENSORS: &'static [constnet::TensorInfo] = &[];
/// #     const LAYERS: &'static [constnet::LayerInfo] = &[constnet::LayerInfo {
/// #         text: "affine(1)", name: "affine1", output: &[1], params: 3, depth: 0 }];
/// #     fn params(&self) -> &[f32] { &[] } fn params_mut(&mut self) -> &mut [f32] { &mut [] }
/// #     fn predict(&self, _: &[f32; 2]) -> [f32; 1] { [0.0] }
/// #     fn workspace_len(_: usize) -> usize { 0 } fn index_len(_: usize) -> usize { 0 }
/// #     fn forward_batch(&self, _: &[[f32; 2]], _: &mut constnet::Workspace<'_, f32>, _: &mut [[f32; 1]]) {}
/// # }
/// let table = constnet::network::summary::Summary::<N>::new().to_string();
/// assert!(table.contains("affine1 (affine(1))"));
/// assert!(table.contains("Total params: 3"));
/// ```
pub struct Summary<N>(PhantomData<N>);

impl<N: Network> Summary<N> {
    /// The summary of `N`.
    pub const fn new() -> Self {
        Summary(PhantomData)
    }
}

impl<N: Network> Default for Summary<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Writes `n` with thousands separators: `433,890`.
struct Grouped(usize);

impl fmt::Display for Grouped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut digits = [0u8; 20];
        let mut n = self.0;
        let mut len = 0;
        loop {
            digits[len] = b'0' + (n % 10) as u8;
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let mut out = [0u8; 27];
        let mut o = 0;
        for i in (0..len).rev() {
            out[o] = digits[i];
            o += 1;
            if i > 0 && i % 3 == 0 {
                out[o] = b',';
                o += 1;
            }
        }
        f.pad(core::str::from_utf8(&out[..o]).map_err(|_| fmt::Error)?)
    }
}

/// Writes a shape in DSL notation: `[30, 24, 24]`.
struct ShapeText(&'static [usize]);

impl fmt::Display for ShapeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Padding needs the whole string; shapes are short, so format twice.
        let mut buf = [0u8; 64];
        let mut w = SliceWriter {
            buf: &mut buf,
            len: 0,
        };
        fmt::Write::write_str(&mut w, "[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                fmt::Write::write_str(&mut w, ", ")?;
            }
            fmt::write(&mut w, format_args!("{d}"))?;
        }
        fmt::Write::write_str(&mut w, "]")?;
        let len = w.len;
        f.pad(core::str::from_utf8(&buf[..len]).map_err(|_| fmt::Error)?)
    }
}

struct SliceWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl fmt::Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Writes a byte count: `1.74 MB`, `17.7 kB`, `96 B`.
struct Bytes(usize);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0 as f64;
        if b >= 1e6 {
            write!(f, "{:.2} MB", b / 1e6)
        } else if b >= 1e3 {
            write!(f, "{:.1} kB", b / 1e3)
        } else {
            write!(f, "{} B", self.0)
        }
    }
}

impl<N: Network> fmt::Display for Summary<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const RULE: &str = "----------------------------------------------------------------------";
        writeln!(f, "Model: \"{}\"", N::NAME)?;
        writeln!(f, "{RULE}")?;
        writeln!(
            f,
            "{:<36}{:<20}{:>14}",
            "Layer (type)", "Output Shape", "Param #"
        )?;
        writeln!(f, "{RULE}")?;
        writeln!(
            f,
            "{:<36}{:<20}{:>14}",
            "input",
            ShapeText(N::INPUT_SHAPE),
            ""
        )?;
        for layer in N::LAYERS {
            let mut buf = [0u8; 128];
            let mut w = SliceWriter {
                buf: &mut buf,
                len: 0,
            };
            // Layers of a residual block sit under its row, two spaces deeper.
            let indent = &"                "[..(2 * layer.depth).min(16)];
            let label = if layer.name == layer.text {
                fmt::write(&mut w, format_args!("{indent}{}", layer.text))
            } else {
                fmt::write(
                    &mut w,
                    format_args!("{indent}{} ({})", layer.name, layer.text),
                )
            };
            let len = w.len;
            let label = match label {
                Ok(()) => core::str::from_utf8(&buf[..len]).unwrap_or(layer.text),
                Err(_) => layer.text,
            };
            writeln!(
                f,
                "{label:<36}{:<20}{:>14}",
                ShapeText(layer.output),
                Grouped(layer.params)
            )?;
        }
        writeln!(f, "{RULE}")?;
        let frozen: usize = N::TENSORS
            .iter()
            .filter(|t| !t.role.is_trainable())
            .map(|t| t.len)
            .sum();
        writeln!(f, "Total params: {}", Grouped(N::PARAM_COUNT + frozen))?;
        writeln!(f, "Trainable params: {}", Grouped(N::PARAM_COUNT))?;
        writeln!(f, "Non-trainable params: {}", Grouped(frozen))?;
        let elem = <N::Elem as Scalar>::BYTES;
        writeln!(
            f,
            "Parameter memory: {} ({}); inference arena: {}",
            Bytes(N::STORE_LEN * elem),
            <N::Elem as Scalar>::NAME,
            Bytes(N::ARENA_LEN * elem)
        )?;
        write!(f, "{RULE}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(std::format!("{}", Grouped(433_890)), "433,890");
        assert_eq!(std::format!("{}", Grouped(0)), "0");
        assert_eq!(std::format!("{:>8}", Grouped(1_010)), "   1,010");
        assert_eq!(std::format!("{}", ShapeText(&[30, 24, 24])), "[30, 24, 24]");
        assert_eq!(std::format!("{}", Bytes(1_735_560)), "1.74 MB");
    }
}
