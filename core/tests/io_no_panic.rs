//! No input makes a reader panic: arbitrary text, and real fixtures with bytes cut out or replaced,
//! either parse or give an `Error::Parse` whose line exists in the input. (Bounded: a few hundred
//! cases per property.)

use fencepost_core::io::{parse_fences_str, parse_trace_points_str, TraceFormat};
use fencepost_core::Error;
use proptest::prelude::*;
use std::path::PathBuf;

fn fixture(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel);
    std::fs::read_to_string(path).expect("fixture is readable")
}

/// Any error must be a parse error on a line the text has (1 for empty text).
fn check<T>(text: &str, result: Result<T, Error>) -> Result<(), TestCaseError> {
    match result {
        Ok(_) => Ok(()),
        Err(Error::Parse { line, .. }) => {
            let lines = text.lines().count().max(1);
            prop_assert!((1..=lines).contains(&line), "line {} of {}", line, lines);
            Ok(())
        }
        Err(other) => Err(TestCaseError::fail(format!(
            "unexpected error kind: {other:?}"
        ))),
    }
}

const FORMATS: [TraceFormat; 3] = [TraceFormat::Gpx, TraceFormat::Csv, TraceFormat::GeoJson];

/// `text` with `len` bytes at `at` (both taken modulo the length) replaced by `with`, kept UTF-8.
fn mutate(text: &str, at: usize, len: usize, with: &str) -> String {
    let bytes = text.as_bytes();
    let start = at % bytes.len().max(1);
    let end = (start + len % 64).min(bytes.len());
    let mut out = bytes[..start].to_vec();
    out.extend_from_slice(with.as_bytes());
    out.extend_from_slice(&bytes[end..]);
    String::from_utf8_lossy(&out).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        for format in FORMATS {
            check(&text, parse_trace_points_str(&text, format, "fuzz"))?;
        }
        check(&text, parse_fences_str(&text, "fuzz"))?;
    }

    #[test]
    fn damaged_real_files_never_panic(
        at in any::<usize>(),
        len in any::<usize>(),
        with in prop::sample::select(vec!["", "<", ">", "\"", ",", "\n", "NaN", "-1e400", "]", "{", "<trkpt lat=\"", "9999"]),
    ) {
        // A slice of the Višnjan GPX keeps each case cheap; the synthetic CSV and fences are small.
        let gpx = fixture("traces/visnjan_car_gpxpy/around-visnjan-with-car.gpx");
        let csv = fixture("synthetic/drive.csv");
        let fences = fixture("fences/visnjan.geojson");
        let (gpx, csv, fences) = (
            mutate(&gpx, at, len, with),
            mutate(&csv, at, len, with),
            mutate(&fences, at, len, with),
        );
        check(&gpx, parse_trace_points_str(&gpx, TraceFormat::Gpx, "fuzz"))?;
        check(&csv, parse_trace_points_str(&csv, TraceFormat::Csv, "fuzz"))?;
        check(&fences, parse_fences_str(&fences, "fuzz"))?;
        check(&fences, parse_trace_points_str(&fences, TraceFormat::GeoJson, "fuzz"))?;
    }
}
