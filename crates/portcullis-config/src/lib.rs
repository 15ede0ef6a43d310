//! Portcullis configuration: the TOML schema, its validation and its defaults.
//!
//! # Layout
//! - `types`: the validated configuration the rest of Portcullis reads.

mod types;

pub use types::*;
