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
