//! Fencepost's on-device engine.
//!
//! The pipeline a driver's phone runs for every GPS fix:
//! [`fix`] (validate) → [`clean`] (order, de-duplicate, quarantine jumps, derive speed and motion) →
//! [`engine`] (geofence hysteresis over a spatial [`index`]) → [`eta`] (distance and ETA to the target).
//! [`io`] reads traces and fences from files; [`synth`] makes labelled synthetic traces.

pub mod clean;
pub mod companion;
pub mod engine;
pub mod error;
pub mod eta;
pub mod event;
pub mod fence;
pub mod fix;
pub mod geodesy;
pub mod index;
pub mod io;
pub mod synth;

pub use error::{Error, Result};
pub use event::{EventKind, GeofenceEvent};
pub use fence::{Fence, FenceShape};
pub use fix::{FixError, LocationFix, Provider};
