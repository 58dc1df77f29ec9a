//! The `jwks` layer carries data files only (see `keys/` and this crate's
//! `[package.metadata.ferry.layer]`); this empty library exists because every
//! workspace member needs a target.
