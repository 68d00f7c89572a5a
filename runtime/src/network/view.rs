//! Typed views of ranges of a flat parameter or activation array.
//!
//! Generated code keeps all parameters in one `[E; N]` and hands kernels
//! nested arrays such as `&[[E; 4320]; 100]`. The ranges are literals, so the
//! length checks below fold away after inlining.

/// Views `flat[..R * C]` as an `R × C` matrix.
///
/// # Panics
/// If `flat` is shorter than `R * C`; generated code never does that.
#[inline(always)]
pub fn mat<E, const R: usize, const C: usize>(flat: &[E]) -> &[[E; C]; R] {
    match flat.as_chunks::<C>().0.first_chunk::<R>() {
        Some(m) => m,
        None => too_short(flat.len(), R * C),
    }
}

/// Views `flat[..R * C]` as a mutable `R × C` matrix.
///
/// # Panics
/// If `flat` is shorter than `R * C`.
#[inline(always)]
pub fn mat_mut<E, const R: usize, const C: usize>(flat: &mut [E]) -> &mut [[E; C]; R] {
    let len = flat.len();
    match flat.as_chunks_mut::<C>().0.first_chunk_mut::<R>() {
        Some(m) => m,
        None => too_short(len, R * C),
    }
}

/// Views `flat[..N]` as an array.
///
/// # Panics
/// If `flat` is shorter than `N`.
#[inline(always)]
pub fn vector<E, const N: usize>(flat: &[E]) -> &[E; N] {
    match flat.first_chunk::<N>() {
        Some(v) => v,
        None => too_short(flat.len(), N),
    }
}

/// Views `flat[..N]` as a mutable array.
///
/// # Panics
/// If `flat` is shorter than `N`.
#[inline(always)]
pub fn vector_mut<E, const N: usize>(flat: &mut [E]) -> &mut [E; N] {
    let len = flat.len();
    match flat.first_chunk_mut::<N>() {
        Some(v) => v,
        None => too_short(len, N),
    }
}

/// Views `flat[..F * C * KH * KW]` as a convolution kernel `[F][C][KH][KW]`.
///
/// # Panics
/// If `flat` is too short.
#[inline(always)]
pub fn kernel<E, const F: usize, const C: usize, const KH: usize, const KW: usize>(
    flat: &[E],
) -> &[[[[E; KW]; KH]; C]; F] {
    let len = flat.len();
    let planes = flat
        .as_chunks::<KW>()
        .0
        .as_chunks::<KH>()
        .0
        .as_chunks::<C>()
        .0;
    match planes.first_chunk::<F>() {
        Some(k) => k,
        None => too_short(len, F * C * KH * KW),
    }
}

/// Views `flat[..F * C * KH * KW]` as a mutable convolution kernel.
///
/// # Panics
/// If `flat` is too short.
#[inline(always)]
pub fn kernel_mut<E, const F: usize, const C: usize, const KH: usize, const KW: usize>(
    flat: &mut [E],
) -> &mut [[[[E; KW]; KH]; C]; F] {
    let len = flat.len();
    let planes = flat
        .as_chunks_mut::<KW>()
        .0
        .as_chunks_mut::<KH>()
        .0
        .as_chunks_mut::<C>()
        .0;
    match planes.first_chunk_mut::<F>() {
        Some(k) => k,
        None => too_short(len, F * C * KH * KW),
    }
}

/// Views a flat buffer as a batch of `[N]` rows; a partial tail is dropped.
#[inline(always)]
pub fn rows<T, const N: usize>(flat: &[T]) -> &[[T; N]] {
    flat.as_chunks::<N>().0
}

/// Views a flat mutable buffer as a batch of `[N]` rows.
#[inline(always)]
pub fn rows_mut<T, const N: usize>(flat: &mut [T]) -> &mut [[T; N]] {
    flat.as_chunks_mut::<N>().0
}

/// Views a flat buffer as a batch of `[C][L]` planes.
#[inline(always)]
pub fn planes<T, const C: usize, const L: usize>(flat: &[T]) -> &[[[T; L]; C]] {
    flat.as_chunks::<L>().0.as_chunks::<C>().0
}

/// Views a flat mutable buffer as a batch of `[C][L]` planes.
#[inline(always)]
pub fn planes_mut<T, const C: usize, const L: usize>(flat: &mut [T]) -> &mut [[[T; L]; C]] {
    flat.as_chunks_mut::<L>().0.as_chunks_mut::<C>().0
}

/// Views a flat buffer as a batch of `[C][H][W]` images.
#[inline(always)]
pub fn images<T, const C: usize, const H: usize, const W: usize>(
    flat: &[T],
) -> &[[[[T; W]; H]; C]] {
    flat.as_chunks::<W>()
        .0
        .as_chunks::<H>()
        .0
        .as_chunks::<C>()
        .0
}

/// Views a flat mutable buffer as a batch of `[C][H][W]` images.
#[inline(always)]
pub fn images_mut<T, const C: usize, const H: usize, const W: usize>(
    flat: &mut [T],
) -> &mut [[[[T; W]; H]; C]] {
    flat.as_chunks_mut::<W>()
        .0
        .as_chunks_mut::<H>()
        .0
        .as_chunks_mut::<C>()
        .0
}

#[cold]
#[inline(never)]
#[track_caller]
fn too_short(len: usize, need: usize) -> ! {
    panic!("view of {need} elements over a slice of {len}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_index_row_major() {
        let mut flat: [u32; 7] = [0, 1, 2, 3, 4, 5, 6];
        assert_eq!(mat::<_, 2, 3>(&flat)[1][2], 5);
        mat_mut::<_, 3, 2>(&mut flat)[2][1] = 9;
        assert_eq!(flat[5], 9);
        assert_eq!(vector::<_, 4>(&flat[3..]), &[3, 4, 9, 6]);
    }

    #[test]
    #[should_panic(expected = "view of 8 elements over a slice of 7")]
    fn short_slices_panic() {
        let flat = [0u8; 7];
        let _ = mat::<_, 2, 4>(&flat);
    }
}
