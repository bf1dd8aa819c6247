//! Fencepost order middleware (work in progress).
