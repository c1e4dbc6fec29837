//! The Gatehouse application: configuration, the command line, and the commands it runs
//! (`serve`, `migrate`, `apply`, `export`, `keys generate`, `version`). The binary is a thin shell
//! around [`cli::run`].

pub mod cli;
pub mod config;
pub mod crypto;
pub mod duration;
pub mod events;
pub mod identity;
pub mod keys;
pub mod provision;
pub mod serve;
