//! See lib.rs for the pipeline; this module is being written.
