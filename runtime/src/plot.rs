//! Figures as PNG files (feature `plot`), drawn with [`plotters`], which this
//! module re-exports so that code drawing a figure uses the same version.
//!
//! [`write_png`] hands a drawing closure a white canvas of the requested
//! size, encodes the pixels as an 8-bit RGB PNG and writes the file
//! atomically. Text is set in DejaVu Sans Mono, embedded in the crate and
//! registered with plotters under every family name plotters' own styles
//! use (`sans-serif`, `serif`, `monospace`), so a figure looks the same on
//! every machine and needs no system font.
//!
//! # Examples
//! ```no_run
//! use constnet::plot::{self, plotters::prelude::*};
//! plot::write_png("target/figures/line.png", (480, 320), |area| {
//!     let mut chart = ChartBuilder::on(area)
//!         .caption("y = x²", ("sans-serif", 20))
//!         .x_label_area_size(30)
//!         .y_label_area_size(40)
//!         .build_cartesian_2d(-1.0..1.0, 0.0..1.0)?;
//!     chart.configure_mesh().draw()?;
//!     chart.draw_series(LineSeries::new((-50..=50).map(|i| (i as f64 / 50.0, (i * i) as f64 / 2500.0)), &BLUE))?;
//!     Ok(())
//! })?;
//! # Ok::<(), constnet::plot::PlotError>(())
//! ```

use std::prelude::rust_2024::*;
use std::vec;

use std::path::Path;
use std::sync::Once;

pub use plotters;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::persist::{PersistError, write_atomic};

/// The canvas a drawing closure receives.
pub type Canvas<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// What a drawing closure returns: any plotters error converts into it.
pub type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Why a figure was not written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The drawing closure failed (plotters reports, for example, a range
    /// it cannot draw).
    #[error("drawing the figure failed: {0}")]
    Draw(String),
    /// The PNG encoder failed.
    #[error("encoding the PNG failed: {0}")]
    Encode(#[from] png::EncodingError),
    /// The file could not be written.
    #[error(transparent)]
    Write(#[from] PersistError),
}

const FONT: &[u8] = include_bytes!("../data/DejaVuSansMono.ttf");

/// Registers the embedded font once per process; every text plotters sets
/// (the bitmap's glyphs, the SVG backend's layout) needs a registered font
/// with the `ab_glyph` backend.
pub(crate) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for family in ["sans-serif", "serif", "monospace"] {
            for style in [
                FontStyle::Normal,
                FontStyle::Bold,
                FontStyle::Italic,
                FontStyle::Oblique,
            ] {
                // The font is fixed and a test draws text with it, so a
                // refusal here would be a broken build, and drawing
                // without text is the most that could be lost.
                let _ = plotters::style::register_font(family, style, FONT);
            }
        }
    });
}

/// Draws a `width × height` figure with `draw` on a white canvas and
/// returns it as PNG bytes.
///
/// # Errors
/// [`PlotError::Draw`] when `draw` fails, [`PlotError::Encode`] when the
/// encoder does.
pub fn png_bytes(
    (width, height): (u32, u32),
    draw: impl FnOnce(&Canvas<'_>) -> DrawResult,
) -> Result<Vec<u8>, PlotError> {
    register_font();
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let area = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        area.fill(&WHITE)
            .map_err(|e| PlotError::Draw(e.to_string()))?;
        draw(&area).map_err(|e| PlotError::Draw(e.to_string()))?;
        area.present().map_err(|e| PlotError::Draw(e.to_string()))?;
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    encoder.write_header()?.write_image_data(&rgb)?;
    Ok(bytes)
}

/// Draws a figure with [`png_bytes`] and writes it to `path` atomically,
/// creating the parent directories.
///
/// # Errors
/// As [`png_bytes`], and [`PlotError::Write`] when the file cannot be written.
pub fn write_png(
    path: impl AsRef<Path>,
    size: (u32, u32),
    draw: impl FnOnce(&Canvas<'_>) -> DrawResult,
) -> Result<(), PlotError> {
    let path = path.as_ref();
    let bytes = png_bytes(size, draw)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| PersistError::Io {
            action: "create the directory",
            path: dir.to_path_buf(),
            source,
        })?;
    }
    write_atomic(path, &bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_has_its_size_and_shows_text() {
        let size = (120, 40);
        let with_text = png_bytes(size, |area| {
            area.draw(&Text::new("constnet", (5, 10), ("sans-serif", 20)))?;
            Ok(())
        })
        .unwrap();
        let blank = png_bytes(size, |_| Ok(())).unwrap();
        let decode = |bytes: &[u8]| {
            let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
                .read_info()
                .unwrap();
            let mut buf = vec![0; reader.output_buffer_size().unwrap()];
            let info = reader.next_frame(&mut buf).unwrap();
            ((info.width, info.height), buf)
        };
        let (dims, text_pixels) = decode(&with_text);
        assert_eq!(dims, size);
        assert!(decode(&blank).1.iter().all(|&v| v == 255));
        let dark = text_pixels.chunks(3).filter(|p| p[0] < 128).count();
        assert!(dark > 50, "only {dark} dark pixels: the text was not drawn");
    }
}
