//! Output and measurements: semihosting text, the stack high-water mark by
//! stack painting, SysTick timing, and the fault and panic handlers.
//!
//! Under QEMU with `-icount shift=0` each guest instruction advances virtual
//! time by 1 ns, and SysTick runs on the 25 MHz core clock of mps2-an386, so
//! one tick is 40 instructions: tick counts are exact, repeatable instruction
//! counts (not cycles). Without `-icount` they follow host time.

#![allow(
    unsafe_code,
    reason = "stack painting reads and writes raw memory below the stack pointer"
)]

use core::hint::black_box;
use core::panic::PanicInfo;
use core::ptr;
use core::sync::atomic::{Ordering, compiler_fence};

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::{ExceptionFrame, exception};
use cortex_m_semihosting::debug;
use cortex_m_semihosting::hio::{self, HostStream};

use crate::report::Line;

/// The word painted on the unused stack.
const PAINT: u32 = 0xDEAD_BEEF;
/// Bytes below the stack pointer left unpainted, for the painting function's
/// own calls.
const MARGIN: usize = 64;
/// Instructions per SysTick tick under `-icount shift=0` on a 25 MHz core.
pub const INSTRUCTIONS_PER_TICK: u32 = 40;

unsafe extern "C" {
    /// Lowest address of the stack (cortex-m-rt: end of `.bss`/`.uninit`).
    static _stack_end: u32;
    /// Initial stack pointer, the top of RAM.
    static _stack_start: u32;
}

/// `(lowest, highest)` address of the stack region.
fn stack_bounds() -> (usize, usize) {
    (
        ptr::addr_of!(_stack_end) as usize,
        ptr::addr_of!(_stack_start) as usize,
    )
}

/// Fills the unused stack, from its lowest address to just below the
/// current stack pointer, with [`PAINT`]. Call it once, early in `main`.
#[inline(never)]
pub fn paint_stack() {
    let sp = cortex_m::register::msp::read() as usize;
    let (bottom, _) = stack_bounds();
    let mut at = bottom;
    while at + MARGIN < sp {
        // SAFETY: `[bottom, sp - MARGIN)` is stack that no frame uses yet,
        // word-aligned (cortex-m-rt asserts `_stack_end % 4 == 0`), and no
        // interrupt is enabled that could push a frame there meanwhile.
        unsafe { ptr::write_volatile(at as *mut u32, PAINT) };
        at += 4;
    }
}

/// Bytes of stack used so far: from the top down to the lowest word that
/// no longer holds the paint. Includes up to [`MARGIN`] bytes that were not
/// painted, so it never under-reports.
#[inline(never)]
pub fn stack_high_water() -> usize {
    let (bottom, top) = stack_bounds();
    let mut at = bottom;
    // SAFETY: reads aligned words of the stack region, which is RAM.
    while at < top && unsafe { ptr::read_volatile(at as *const u32) } == PAINT {
        at += 4;
    }
    top - at
}

/// SysTick as a free-running 24-bit down-counter on the core clock.
pub struct Timer {
    _syst: SYST,
}

impl Timer {
    /// Starts the counter; it wraps every 2^24 ticks (671 M instructions).
    pub fn start(mut syst: SYST) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(0x00FF_FFFF);
        syst.clear_current();
        syst.enable_counter();
        Timer { _syst: syst }
    }

    /// Runs `f` and returns its result with the ticks it took.
    ///
    /// NOTE: the fences and `black_box` keep LLVM from moving the work out of
    /// the timed region.
    #[inline(always)]
    pub fn time<R>(&self, f: impl FnOnce() -> R) -> (R, u32) {
        compiler_fence(Ordering::SeqCst);
        let start = SYST::get_current();
        compiler_fence(Ordering::SeqCst);
        let r = black_box(f());
        compiler_fence(Ordering::SeqCst);
        let end = SYST::get_current();
        compiler_fence(Ordering::SeqCst);
        (r, start.wrapping_sub(end) & 0x00FF_FFFF)
    }
}

/// Semihosting stdout (the terminal QEMU was started from).
pub struct Out(HostStream);

impl Out {
    /// Opens stdout; exits QEMU with a failure if semihosting is off.
    pub fn open() -> Self {
        match hio::hstdout() {
            Ok(s) => Out(s),
            Err(()) => exit(false),
        }
    }

    /// Writes bytes as they are.
    pub fn write(&mut self, bytes: &[u8]) {
        if self.0.write_all(bytes).is_err() {
            exit(false);
        }
    }

    /// Writes `# name value` (a measurement: host and device differ here).
    pub fn measure(&mut self, name: &str, value: u32) {
        let mut line = Line::new();
        line.push(b"# ")
            .push(name.as_bytes())
            .push(b" ")
            .dec(value, 1);
        self.write(line.finish());
    }
}

/// Ends the QEMU session with exit status 0 (`ok`) or 1.
pub fn exit(ok: bool) -> ! {
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    // Only reached on real hardware without a debugger attached.
    loop {
        cortex_m::asm::wfi();
    }
}

/// A fault ends the QEMU session with a failure instead of hanging until
/// the CI timeout.
#[exception]
unsafe fn HardFault(_frame: &ExceptionFrame) -> ! {
    if let Ok(mut out) = hio::hstdout() {
        let _ = out.write_all(b"HardFault\n");
    }
    exit(false)
}

/// Prints `panicked at file:line: message` and exits QEMU with status 1.
///
/// Written without `core::fmt`: that machinery alone would take several
/// KiB of flash (panic-semihosting formats the whole `PanicInfo`). A message
/// with format arguments is printed as `(formatted message)`.
#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    if let Ok(mut out) = hio::hstdout() {
        let mut line = Line::new();
        line.push(b"panicked");
        if let Some(at) = info.location() {
            line.push(b" at ")
                .push(at.file().as_bytes())
                .push(b":")
                .dec(at.line(), 1);
        }
        let message = info.message().as_str().unwrap_or("(formatted message)");
        line.push(b": ").push(message.as_bytes());
        let _ = out.write_all(line.finish());
    }
    exit(false)
}
