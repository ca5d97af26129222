//! ssh (filled in by its issue).
