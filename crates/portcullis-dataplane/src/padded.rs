//! A value alone on its cache lines (two, for adjacent-line prefetch), so that what
//! one worker writes never shares a line with what another writes.

/// See the module documentation.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub T);
