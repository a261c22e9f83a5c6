//! Placeholder: filled in by the state-resolution work.
