//! Register hygiene before ring's AES-GCM, so memory checkers see what the CPU computes.
//!
//! ring 0.17's AVX GHASH (`gcm_ghash_avx`, picked on CPUs with AVX and MOVBE but without
//! VAES, which includes the CPU valgrind emulates) clears three accumulators on its short
//! path — every associated-data block and the length block of every seal and open — by
//! copying `xmm0`–`xmm2` and XOR-ing each copy with its original. The result is zero whatever
//! the registers held, but valgrind's memcheck only recognises the one-register idiom: when
//! the code that ran before left undefined bits (padding, `MaybeUninit`) in those registers,
//! memcheck marks the tag undefined, reports the constant-time tag compare, and then every
//! value derived from the opened key. docs/ffi.md ("valgrind") has the full analysis.
//!
//! [`settle`] runs immediately before each ring AEAD call: a call that the x86-64 System V
//! ABI obliges to pass three defined values in `xmm0`–`xmm2`, so the first GHASH block finds
//! them defined. It changes no value the CPU computes, costs one call, and needs no `unsafe`.
//! On other architectures it does nothing.

/// Leaves defined values in the vector argument registers (`xmm0`–`xmm2` on x86-64).
#[inline(always)]
pub(super) fn settle() {
    #[cfg(target_arch = "x86_64")]
    {
        use core::hint::black_box;
        // `black_box` on the arguments keeps the optimizer from folding the call away; on the
        // result, from dropping it.
        black_box(vector_arguments(
            black_box(0.0),
            black_box(0.0),
            black_box(0.0),
        ));
    }
}

/// Takes its three arguments in `xmm0`, `xmm1` and `xmm2` (System V AMD64, `extern "C"`)
/// and leaves them there; returns in `xmm0`.
#[cfg(target_arch = "x86_64")]
#[inline(never)]
extern "C" fn vector_arguments(a: f64, b: f64, c: f64) -> f64 {
    a + b + c
}
