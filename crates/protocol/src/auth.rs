//! Placeholder: filled in by the auth-rules work.
